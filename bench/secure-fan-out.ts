// Secure fan-out: what secure mode costs. One round of `predict` to N models (default 100) through
// plain gRPC and through secure model nodes (mutual TLS, the node's signed identity checked on every
// answer), the same endpoints process serving both, rounds alternating so both see the same load.
// Also the time to connect and set up all N models in each mode (secure adds the TLS probe and the
// handshakes). Answers kept as bytes, as the predict round asks.
//
//   npm run bench -- secure-fan-out [--models 100] [--rounds 15]
import type { CallResult, ModelRunnerClient } from '../lib/model-runner/index.js';
import { loadSecureCredentials } from '../lib/model-runner/security/credentials.js';
import { modelNodeHostname } from '../lib/model-runner/security/tls-probe.js';
import { newWallet, signedIdentity, TestPki } from '../test/support/test-pki.js';
import { clientFor, Endpoints } from './fan-out.js';
import { median, round1 } from './support/figures.js';

const progress = (message: string) => process.stderr.write(`[secure-fan-out] ${message}\n`);

function parseOptions(args: string[]): { models: number; rounds: number } {
  const options = { models: 100, rounds: 15 };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--models') options.models = Number(args[++i]);
    else if (arg === '--rounds') options.rounds = Number(args[++i]);
    else throw new Error(`unknown argument ${arg}; use --models 100 --rounds 15`);
  }
  if (!Number.isInteger(options.models) || options.models <= 0 || !(options.rounds >= 1)) {
    throw new Error('--models needs a positive integer and --rounds a number >= 1');
  }
  return options;
}

function checkRound(results: CallResult[], count: number, mode: string): void {
  const good = results.filter((result) => result.status === 'SUCCESS' && (result.raw?.value.length ?? 0) > 0);
  if (good.length !== count) {
    const sample = results.find((result) => result.status !== 'SUCCESS');
    throw new Error(
      `${mode}: only ${good.length} of ${count} models answered: ${sample?.status} ${sample?.error ?? ''}`,
    );
  }
}

export default async function secureFanOut(args: string[]): Promise<Record<string, unknown>> {
  const { models, rounds } = parseOptions(args);
  const pki = new TestPki();
  const endpoints = await Endpoints.start();
  const clients: ModelRunnerClient[] = [];
  try {
    // One node certificate for every model (a wildcard for their names) keeps set-up short; each
    // node still sends its own signed identity (its model id and hotkey).
    const ca = pki.authority('bench-ca');
    const node = pki.issue(ca, { commonName: 'model-nodes', dns: ['*.crunchdao.internal'] });
    if (!modelNodeHostname('m0').endsWith('.crunchdao.internal')) throw new Error('unexpected node name');
    const coordinator = pki.issue(ca, { commonName: 'coordinator', client: true });
    const dir = pki.credentialsDirectory('bench', {
      ca: ca.certPem,
      cert: coordinator.certPem,
      key: coordinator.keyPem,
    });
    const wallet = newWallet();
    const identities = Array.from({ length: models }, (_, i) =>
      signedIdentity({ wallet, certPub: node.spki, modelId: `m${i}`, hotkey: `hotkey-${i}` }),
    );
    progress(`${models} plain and ${models} secure endpoints: starting`);
    const plainPorts = (await endpoints.listen(models)).ports;
    const securePorts = (
      await endpoints.listen(models, {
        cert: node.certPem.toString(),
        key: node.keyPem.toString(),
        ca: ca.certPem.toString(),
        identities,
      })
    ).ports;

    const plain = clientFor(plainPorts, 'http2');
    const secure = clientFor(securePorts, 'http2', {
      wallet: wallet.address,
      credentials: loadSecureCredentials(dir),
    });
    clients.push(plain, secure);
    const connectMs: Record<string, number> = {};
    for (const [mode, client] of [
      ['plain', plain],
      ['secure', secure],
    ] as const) {
      const started = performance.now();
      await client.start();
      await client.waitForModels(models, 120_000);
      connectMs[mode] = performance.now() - started;
    }

    const callArgs = ['BTC', 86400, 300];
    const measured = {
      plain: { wall: [] as number[], cpu: [] as number[] },
      secure: { wall: [] as number[], cpu: [] as number[] },
    };
    for (const [mode, client] of [
      ['plain', plain],
      ['secure', secure],
    ] as const) {
      checkRound(await client.call('predict', callArgs, { timeoutMs: 60_000, decode: false }), models, mode);
    }
    for (let r = 0; r < rounds; r++) {
      for (const [mode, client] of [
        ['plain', plain],
        ['secure', secure],
      ] as const) {
        const started = performance.now();
        const cpu = process.cpuUsage();
        const results = await client.call('predict', callArgs, { timeoutMs: 60_000, decode: false });
        const used = process.cpuUsage(cpu);
        measured[mode].wall.push(performance.now() - started);
        measured[mode].cpu.push((used.user + used.system) / 1000);
        checkRound(results, models, mode);
      }
    }
    const plainMs = median(measured.plain.wall);
    const secureMs = median(measured.secure.wall);
    const plainCpu = median(measured.plain.cpu);
    const secureCpu = median(measured.secure.cpu);
    progress(`plain ${round1(plainMs)} ms, secure ${round1(secureMs)} ms a round`);
    return {
      models,
      rounds,
      plain_round_ms: round1(plainMs),
      secure_round_ms: round1(secureMs),
      secure_over_plain: Math.round((secureMs / plainMs) * 100) / 100,
      plain_round_cpu_ms: round1(plainCpu),
      secure_round_cpu_ms: round1(secureCpu),
      secure_cpu_per_call_us: Math.round(((secureCpu - plainCpu) / models) * 1000),
      plain_rounds_ms: measured.plain.wall.map(round1),
      secure_rounds_ms: measured.secure.wall.map(round1),
      plain_connect_ms: round1(connectMs.plain ?? 0),
      secure_connect_ms: round1(connectMs.secure ?? 0),
    };
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await endpoints.stop();
    pki.dispose();
  }
}
