// Secure and gateway modes against test model nodes in front of a real model-runner process
// (test/support/secure-fleet.ts). CrunchDAO's own Python client first proves the nodes behave like
// production ones (it accepts the good nodes and refuses the bad); then ours must agree, case by case.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { condor } from '../lib/game/index.js';
import {
  loadModelCredentials,
  ModelRunnerClient,
  type ModelTransport,
  modelTransports,
} from '../lib/model-runner/index.js';
import { TestDiscoveryServer } from './support/discovery-server.js';
import { freePort, type ModelProcess, startModelProcess, stopAllModelProcesses } from './support/model-processes.js';
import {
  type GatewayCase,
  gatewayCases,
  type SecureCase,
  SecureFleet,
  secureCases,
  type TestNode,
} from './support/secure-fleet.js';
import { repoRoot, toolsPython } from './support/tools.js';

const run = promisify(execFile);
const secureKinds = Object.keys(secureCases) as SecureCase[];
const gatewayKinds = Object.keys(gatewayCases) as GatewayCase[];

let fleet: SecureFleet;
let model: ModelProcess;
const nodes = new Map<string, TestNode>();
let currentTransport: ModelTransport = 'http2';

beforeAll(async () => {
  fleet = new SecureFleet();
  model = await startModelProcess({ submission: 'benchmark' });
  for (const kind of secureKinds) nodes.set(kind, await fleet.secureNode(kind, kind, model.port));
  for (const kind of gatewayKinds) nodes.set(kind, await fleet.gatewayNode(kind, kind, model.port));
}, 120_000);

afterAll(async () => {
  await fleet?.close();
  await stopAllModelProcesses();
});

/** CrunchDAO's client (model-runner-client 0.14.0) on one node: did it connect and set the model up? */
async function referenceClient(kind: SecureCase | GatewayCase): Promise<{ ok: boolean; error: string | null }> {
  const node = nodes.get(kind) as TestNode;
  const gateway = kind.startsWith('gateway');
  const { stdout } = await run(
    toolsPython(),
    [
      resolve(repoRoot, 'test/support/reference_secure_client.py'),
      '--mode',
      gateway ? 'gateway' : 'secure',
      '--cert-dir',
      gateway ? fleet.gatewayDir : fleet.secureDir,
      '--port',
      String(node.node.port),
      '--model-id',
      node.modelId,
      '--wallet',
      node.wallet,
      '--hotkey',
      node.hotkey,
    ],
    // Gateway mode trusts the system roots; the test CA stands in for them here.
    { env: { ...process.env, GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: resolve(fleet.gatewayDir, 'ca.crt') }, timeout: 60_000 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) as string);
}

describe('the test nodes, seen by CrunchDAO’s Python client', () => {
  it('it sets up the good nodes and refuses every bad one', async () => {
    const kinds = [...secureKinds, ...gatewayKinds];
    const outcomes = await Promise.all(kinds.map(referenceClient));
    const seen = Object.fromEntries(kinds.map((kind, i) => [kind, outcomes[i]]));
    expect(seen).toEqual({
      good: { ok: true, error: null },
      'other-wallet': { ok: false, error: 'ErrorType.AUTH_ERROR' },
      'forged-signature': { ok: false, error: 'ErrorType.AUTH_ERROR' },
      replayed: { ok: false, error: 'ErrorType.AUTH_ERROR' },
      unregistered: { ok: false, error: 'ErrorType.AUTH_ERROR' },
      expired: { ok: false, error: 'ErrorType.AUTH_ERROR' },
      'wrong-ca': { ok: false, error: 'ErrorType.AUTH_ERROR' },
      'wrong-name': { ok: false, error: 'ErrorType.AUTH_ERROR' },
      'client-refused': { ok: false, error: 'ErrorType.AUTH_ERROR' },
      'gateway-good': { ok: true, error: null },
      // Its gateway mode takes a refused token for "credentials missing" (a defect we do not copy).
      'gateway-bad': { ok: false, error: expect.stringMatching(/^InvalidCoordinatorUsageError/) },
    });
  }, 120_000);
});

/** A few hours of minute prices, enough for the benchmark tracker to predict. */
function recentPrices(): Array<[number, number]> {
  const end = Math.floor(Date.now() / 60_000) * 60;
  return Array.from({ length: 600 }, (_, i) => [end - (599 - i) * 60, 60_000 + Math.sin(i / 10) * 50]);
}

async function clientFor(
  kinds: string[],
  credentials: ReturnType<typeof loadModelCredentials>,
  extra: Partial<ConstructorParameters<typeof ModelRunnerClient>[0]> = {},
) {
  const discovery = await TestDiscoveryServer.start();
  for (const kind of kinds) {
    const node = nodes.get(kind) as TestNode;
    discovery.announce({ modelId: node.modelId, port: node.node.port, walletPubkey: node.wallet, hotkey: node.hotkey });
  }
  const client = new ModelRunnerClient({
    discoveryUrl: discovery.url,
    className: condor.setupClassName,
    credentials,
    transport: currentTransport,
    connectAttempts: 3,
    connectBackoffMs: [300],
    channelReadyTimeoutMs: 5_000,
    ...extra,
  });
  await client.start();
  return { client, discovery };
}

describe.each(modelTransports)('our client on the %s transport', (transport) => {
  beforeAll(() => {
    currentTransport = transport;
  });

  describe('in secure mode (SECURE_CERT_DIR)', () => {
    it('sets up the good node, calls it, and reports every bad one once as CONNECTION_FAILED with its reason', async () => {
      const refusedBefore = nodes.get('unregistered')?.node.refused ?? 0;
      const credentials = loadModelCredentials({ secureCertDir: fleet.secureDir });
      const lines: string[] = [];
      const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
      const { client, discovery } = await clientFor(secureKinds, credentials, { logger });
      try {
        await client.waitForModels(1, 30_000);
        const bad = secureKinds.filter((kind) => kind !== 'good');
        await discovery.waitForReports(bad.length, 30_000);
        expect(client.models().map((model) => model.modelId)).toEqual(['good']);

        const tick = await client.call('tick', [{ BTC: recentPrices() }], { timeoutMs: 30_000 });
        expect(tick.map((result) => [result.model.modelId, result.status, result.error])).toEqual([
          ['good', 'SUCCESS', undefined],
        ]);
        const [prediction] = await client.call('predict', ['BTC', 3600, 300], { timeoutMs: 30_000 });
        expect(prediction?.status, prediction?.error).toBe('SUCCESS');
        expect(Array.isArray(prediction?.value)).toBe(true);

        // Not retried: one report each, and the node that refuses our certificate saw one Setup only.
        await new Promise((done) => setTimeout(done, 1_500));
        expect(discovery.reports).toHaveLength(bad.length);
        for (const kind of bad) {
          const reports = discovery.reports.filter((report) => report.model_id === kind);
          expect(
            reports.map((report) => report.failure_code),
            kind,
          ).toEqual(['CONNECTION_FAILED']);
          expect(reports[0]?.failure_reason, kind).toMatch(secureCases[kind]);
          expect(reports[0]?.failure_reason).not.toMatch(/PRIVATE KEY|BEGIN/);
        }
        expect((nodes.get('unregistered')?.node.refused ?? 0) - refusedBefore).toBe(1);
        // No secret in any log line: not our key, not a node's signed message or signature.
        const said = lines.join('\n') + JSON.stringify(discovery.reports);
        const keyBody = fleet.coordinator.keyPem.toString().split('\n')[1] as string;
        expect(said).not.toContain(keyBody);
        const signed = [...nodes.values()].flatMap((node) => Object.values(node.identity));
        expect(signed.length).toBeGreaterThan(0);
        for (const value of signed)
          if (!value.match(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/)) expect(said).not.toContain(value);
      } finally {
        await client.close();
        await discovery.close();
      }
    }, 90_000);

    it('fails the call and reports the node once when its signed identity stops holding during calls', async () => {
      const turncoat = await fleet.secureNode('good', 'turncoat', model.port);
      nodes.set('turncoat', turncoat);
      const credentials = loadModelCredentials({ secureCertDir: fleet.secureDir });
      const { client, discovery } = await clientFor(['turncoat'], credentials);
      try {
        await client.waitForModels(1, 30_000);
        const [first] = await client.call('predict', ['BTC', 3600, 300], { timeoutMs: 30_000 });
        expect(first?.error ?? '').not.toMatch(/authentication/);
        turncoat.node.setIdentity(fleet.identitySignedBy(fleet.otherWallet, 'turncoat', turncoat.hotkey));
        const [second] = await client.call('predict', ['BTC', 3600, 300], { timeoutMs: 30_000 });
        expect(second?.status).toBe('FAILED');
        expect(second?.error).toMatch(/authentication failed: the identity is signed for wallet/);
        const reports = await discovery.waitForReports(1);
        expect(reports.map((report) => [report.model_id, report.failure_code])).toEqual([
          ['turncoat', 'CONNECTION_FAILED'],
        ]);
        expect(client.models()).toEqual([]);
        await new Promise((done) => setTimeout(done, 500));
        expect(discovery.reports).toHaveLength(1);
      } finally {
        await client.close();
        await discovery.close();
      }
    }, 60_000);

    it('keeps trying a node that refuses the TCP connection, and joins it once it listens', async () => {
      const port = await freePort();
      const credentials = loadModelCredentials({ secureCertDir: fleet.secureDir });
      const discovery = await TestDiscoveryServer.start();
      discovery.announce({ modelId: 'late', port, walletPubkey: fleet.wallet.address, hotkey: 'hotkey-late' });
      const client = new ModelRunnerClient({
        discoveryUrl: discovery.url,
        className: condor.setupClassName,
        credentials,
        transport: currentTransport,
        connectAttempts: 20,
        connectBackoffMs: [250],
        channelReadyTimeoutMs: 2_000,
      });
      try {
        await client.start();
        await new Promise((done) => setTimeout(done, 1_000));
        nodes.set('late', await fleet.secureNode('good', 'late', model.port, port));
        await client.waitForModels(1, 30_000);
        expect(discovery.reports).toEqual([]);
      } finally {
        await client.close();
        await discovery.close();
      }
    }, 60_000);

    it('in plain mode, says once that the nodes are in secure mode and which setting to use, and reports nothing', async () => {
      const lines: string[] = [];
      const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
      const { client, discovery } = await clientFor(['good', 'replayed'], null, { logger, connectBackoffMs: [100] });
      try {
        const said = () => lines.filter((line) => /secure mode/.test(line));
        await until(() => said().length >= 2, 30_000);
        const errors = said().map((line) => JSON.parse(line) as { level: number; msg: string });
        expect(errors.filter((line) => line.level >= 50)).toHaveLength(1);
        expect(errors[0]?.msg).toMatch(/SECURE_CERT_DIR/);
        expect(client.models()).toEqual([]);
        expect(discovery.reports).toEqual([]);
      } finally {
        await client.close();
        await discovery.close();
      }
    }, 60_000);
  });

  describe('in gateway mode (GATEWAY_CERT_DIR)', () => {
    it('calls through the gateway that takes its token, with a fresh token each call, and reports the one that refuses it', async () => {
      const credentials = loadModelCredentials({ gatewayCertDir: fleet.gatewayDir });
      const { client, discovery } = await clientFor(gatewayKinds, credentials);
      const good = nodes.get('gateway-good') as TestNode;
      try {
        await client.waitForModels(1, 30_000);
        const reports = await discovery.waitForReports(1, 30_000);
        expect(reports.map((report) => [report.model_id, report.failure_code])).toEqual([
          ['gateway-bad', 'CONNECTION_FAILED'],
        ]);
        expect(reports[0]?.failure_reason).toMatch(gatewayCases['gateway-bad']);
        const tokensBefore = good.node.tokenTimestamps.length;
        await client.call('predict', ['BTC', 3600, 300], { timeoutMs: 30_000 });
        await new Promise((done) => setTimeout(done, 1_100));
        const [late] = await client.call('predict', ['BTC', 3600, 300], { timeoutMs: 30_000 });
        expect(late?.error ?? '').not.toMatch(/authentication/);
        const stamps = good.node.tokenTimestamps.slice(tokensBefore);
        expect(stamps).toHaveLength(2);
        expect(stamps[1]).toBeGreaterThan(stamps[0] as number);
      } finally {
        await client.close();
        await discovery.close();
      }
    }, 60_000);
  });
});

async function until(done: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > end) throw new Error(`not done within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
