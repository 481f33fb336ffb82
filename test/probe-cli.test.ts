// `coordinator probe` on the secure test nodes (test/support/secure-fleet.ts): the operator's check
// before going live, in each mode, with good and bad nodes and bad credentials.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestDiscoveryServer } from './support/discovery-server.js';
import { startModelProcess, stopAllModelProcesses } from './support/model-processes.js';
import { SecureFleet, type TestNode } from './support/secure-fleet.js';
import { repoRoot } from './support/tools.js';

const run = promisify(execFile);

async function probe(args: string[]) {
  const env = { ...process.env };
  delete env.SECURE_CERT_DIR;
  delete env.GATEWAY_CERT_DIR;
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [resolve(repoRoot, 'bin/coordinator.mjs'), 'probe', ...args],
      {
        env,
        timeout: 60_000,
      },
    );
    return { code: 0, lines: jsonLines(stdout), stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, lines: jsonLines(failed.stdout), stderr: failed.stderr };
  }
}

function jsonLines(stdout: string): unknown[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}

let fleet: SecureFleet;
let discovery: TestDiscoveryServer;
let gatewayDiscovery: TestDiscoveryServer;
let goodOnly: TestDiscoveryServer;

function announce(server: TestDiscoveryServer, node: TestNode): void {
  server.announce({ modelId: node.modelId, port: node.node.port, walletPubkey: node.wallet, hotkey: node.hotkey });
}

beforeAll(async () => {
  fleet = new SecureFleet();
  const model = await startModelProcess({ submission: 'benchmark' });
  [discovery, gatewayDiscovery, goodOnly] = await Promise.all([
    TestDiscoveryServer.start(),
    TestDiscoveryServer.start(),
    TestDiscoveryServer.start(),
  ]);
  const good = await fleet.secureNode('good', 'good', model.port);
  announce(discovery, good);
  announce(goodOnly, good);
  announce(discovery, await fleet.secureNode('replayed', 'replayed', model.port));
  announce(discovery, await fleet.secureNode('unregistered', 'unregistered', model.port));
  announce(gatewayDiscovery, await fleet.gatewayNode('gateway-good', 'gateway-good', model.port));
}, 120_000);

afterAll(async () => {
  await Promise.all([discovery?.close(), gatewayDiscovery?.close(), goodOnly?.close()]);
  await fleet?.close();
  await stopAllModelProcesses();
});

describe('coordinator probe', () => {
  it('says per model what is wrong, sums up, exits 1, and prints the hash to register', async () => {
    const result = await probe([
      '--orchestrator-url',
      discovery.url,
      '--secure-cert-dir',
      fleet.secureDir,
      '--timeout-ms',
      '5000',
    ]);
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      { model_id: 'good', ok: true },
      { model_id: 'replayed', ok: false, error: expect.stringMatching(/CONNECTION_FAILED: .*cert_pub does not match/) },
      { model_id: 'unregistered', ok: false, error: expect.stringMatching(/does not match registered certificate/) },
      { probed: 3, ok: 1 },
    ]);
    // The hash as openssl computes it, independently of our code: SHA-256 of the DER SubjectPublicKeyInfo.
    const { stdout: opensslHash } = await run('sh', [
      '-c',
      `openssl x509 -in "${join(fleet.secureDir, 'tls.crt')}" -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r`,
    ]);
    const hash = opensslHash.split(' ')[0] as string;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(result.stderr).toContain(
      `certificate hash to register on chain (SHA-256 of the certificate's public key): ${hash}`,
    );
    expect(result.stderr + JSON.stringify(result.lines)).not.toMatch(/PRIVATE KEY/);
  }, 60_000);

  it('exits 0 when every model is ok, in secure mode and in gateway mode', async () => {
    const secure = await probe(['--orchestrator-url', goodOnly.url, '--secure-cert-dir', fleet.secureDir]);
    expect(secure.lines).toEqual([
      { model_id: 'good', ok: true },
      { probed: 1, ok: 1 },
    ]);
    expect(secure.code).toBe(0);
    const gateway = await probe(['--orchestrator-url', gatewayDiscovery.url, '--gateway-cert-dir', fleet.gatewayDir]);
    expect(gateway.lines).toEqual([
      { model_id: 'gateway-good', ok: true },
      { probed: 1, ok: 1 },
    ]);
    expect(gateway.code).toBe(0);
  }, 60_000);

  it('in plain mode, says the nodes are in secure mode and which setting to use', async () => {
    const plain = await probe(['--orchestrator-url', goodOnly.url, '--timeout-ms', '3000']);
    expect(plain.code).toBe(1);
    expect(plain.lines[0]).toEqual({
      model_id: 'good',
      ok: false,
      error: expect.stringMatching(/secure mode.*SECURE_CERT_DIR/),
    });
  }, 60_000);

  it('refuses bad credentials before connecting anything, naming the file', async () => {
    const both = await probe([
      '--orchestrator-url',
      goodOnly.url,
      '--secure-cert-dir',
      fleet.secureDir,
      '--gateway-cert-dir',
      fleet.gatewayDir,
    ]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--secure-cert-dir and --gateway-cert-dir are both set/);

    const broken = mkdtempSync(join(tmpdir(), 'probe-credentials-'));
    try {
      writeFileSync(join(broken, 'ca.crt'), fleet.ca.certPem);
      writeFileSync(join(broken, 'tls.crt'), fleet.coordinator.certPem);
      const missing = await probe(['--orchestrator-url', goodOnly.url, '--secure-cert-dir', broken]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/tls\.key is missing/);

      // Another key than the certificate's.
      writeFileSync(join(broken, 'tls.key'), fleet.pki.issue(fleet.ca, { commonName: 'x', client: true }).keyPem);
      const mismatched = await probe(['--orchestrator-url', goodOnly.url, '--secure-cert-dir', broken]);
      expect(mismatched.code).toBe(2);
      expect(mismatched.stderr).toMatch(/tls\.crt is not the certificate of .*tls\.key: the two files do not match/);

      const ec = fleet.pki.issue(fleet.ca, { commonName: 'ec', client: true, keyType: 'ec' });
      writeFileSync(join(broken, 'tls.crt'), ec.certPem);
      writeFileSync(join(broken, 'tls.key'), ec.keyPem);
      const wrongType = await probe(['--orchestrator-url', goodOnly.url, '--secure-cert-dir', broken]);
      expect(wrongType.code).toBe(2);
      expect(wrongType.stderr).toMatch(/tls\.key is an ec key; CrunchDAO's certificate enrolment uses RSA keys/);
      expect(wrongType.stderr).not.toMatch(/PRIVATE KEY/);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  }, 60_000);
});
