// Fan-out: one round of `predict` to N models, each answering a fixed 288-step JSON prediction, by
// our ModelRunnerClient and by the reference Python client (model-runner-client 0.14.0), against the
// same endpoints in the same run. Warm rounds only (connections set up first), median of several.
//
//   npm run bench -- fan-out [--sizes 10,100,1000] [--rounds 5] [--no-python]
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { createLogger } from '../lib/log/index.js';
import {
  type CallResult,
  encodeVariant,
  type ModelCredentials,
  ModelRunnerClient,
  type ModelTransport,
  modelTransports,
} from '../lib/model-runner/index.js';
import { serializeCallRequest } from '../lib/model-runner/proto.js';
import { TestDiscoveryServer } from '../test/support/discovery-server.js';
import { toolsPython } from '../test/support/tools.js';
import { http2FloorRounds } from './fan-out/http2-floor.js';
import { predictionJson } from './fan-out/payload.js';
import { median, round1 } from './support/figures.js';

interface Options {
  sizes: number[];
  rounds: number;
  python: boolean;
}

interface EndpointStats {
  calls: number;
  handlerMs: number;
  cpuMs: number;
}

const here = import.meta.dirname;
const progress = (message: string) => process.stderr.write(`[fan-out] ${message}\n`);

function parseOptions(args: string[]): Options {
  const options: Options = { sizes: [10, 100, 1000], rounds: 5, python: true };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--sizes') options.sizes = String(args[++i]).split(',').map(Number);
    else if (arg === '--rounds') options.rounds = Number(args[++i]);
    else if (arg === '--no-python') options.python = false;
    else throw new Error(`unknown argument ${arg}; use --sizes 10,100,1000 --rounds 5 --no-python`);
  }
  if (options.sizes.some((n) => !Number.isInteger(n) || n <= 0) || !(options.rounds >= 1)) {
    throw new Error('--sizes needs positive integers and --rounds a number >= 1');
  }
  return options;
}

/** The endpoints run in their own Node process, so they do not share our event loop. */
export class Endpoints {
  private constructor(private readonly child: ChildProcess) {}

  static async start(): Promise<Endpoints> {
    const child = fork(resolve(here, 'fan-out', 'endpoints.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await once(child, 'spawn');
    return new Endpoints(child);
  }

  private request<T>(message: object): Promise<T> {
    const reply = once(this.child, 'message').then(([answer]) => answer as T);
    this.child.send(message);
    return reply;
  }

  /** `tls`: secure model nodes (see endpoints.ts). */
  listen(count: number, tls?: { cert: string; key: string; ca: string; identities: Array<Record<string, string>> }) {
    return this.request<{ ports: number[]; answerBytes: number }>({ command: 'listen', count, tls });
  }

  reset() {
    return this.request<{ ok: true }>({ command: 'reset' });
  }

  stats() {
    return this.request<EndpointStats>({ command: 'stats' });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.send({ command: 'exit' });
    await exited;
  }
}

function checkRound(results: CallResult[], count: number, decoded: boolean): void {
  const good = results.filter(
    (result) =>
      result.status === 'SUCCESS' &&
      (decoded ? (result.value as unknown[]).length === 288 : (result.raw?.value.length ?? 0) > 0),
  );
  if (good.length !== count) {
    const sample = results.find((result) => result.status !== 'SUCCESS');
    throw new Error(`only ${good.length} of ${count} models answered: ${sample?.status} ${sample?.error ?? ''}`);
  }
}

/** Wall and CPU time (this process, all threads) of each timed round, in ms. */
interface Rounds {
  wallMs: number[];
  cpuMs: number[];
}

interface OurRounds {
  /** Answers kept as bytes (`decode: false`), as the predict round asks: per transport. */
  raw: Record<ModelTransport, Rounds>;
  /** Answers decoded by the client (`decode: true`), as the reference client does: per transport. */
  decoded: Record<ModelTransport, Rounds>;
  /** The endpoints' handler time and process CPU in our http2 rounds (raw and decoded alike). */
  endpointMs: number[];
  endpointCpuMs: number[];
}

/** A client of models m0..mN-1 at these ports; `secure`: secure mode, every model of this cruncher wallet. */
export function clientFor(
  ports: number[],
  transport: ModelTransport,
  secure?: { wallet: string; credentials: ModelCredentials },
): ModelRunnerClient {
  return new ModelRunnerClient({
    transport,
    className: 'condorgame.tracker.TrackerBase',
    models: ports.map((port, i) => ({
      modelId: `m${i}`,
      deploymentId: `m${i}_20250101_000000_000`,
      name: `model ${i}`,
      cruncherId: `c${i}`,
      cruncherName: `cruncher ${i}`,
      cruncherWalletPubkey: secure?.wallet ?? null,
      cruncherHotkey: `hotkey-${i}`,
      ip: '127.0.0.1',
      port,
    })),
    credentials: secure?.credentials ?? null,
    reportFailures: false,
    // Per-model join/leave lines would drown the figures; warnings and errors still show.
    logger: createLogger('model-runner').child({}, { level: 'warn' }),
  });
}

/**
 * Raw rounds first, then decoded ones, so the garbage of a decoded round (millions of objects) is not
 * collected in a raw round and charged to it: predict rounds in production are raw. Within each
 * block the two transports alternate, so both see the same machine load.
 */
async function measureOurs(ports: number[], endpoints: Endpoints, rounds: number): Promise<OurRounds> {
  const clients = { http2: clientFor(ports, 'http2'), 'grpc-js': clientFor(ports, 'grpc-js') };
  const args = ['BTC', 86400, 300];
  const empty = (): Record<ModelTransport, Rounds> => ({
    http2: { wallMs: [], cpuMs: [] },
    'grpc-js': { wallMs: [], cpuMs: [] },
  });
  const measured: OurRounds = { raw: empty(), decoded: empty(), endpointMs: [], endpointCpuMs: [] };
  try {
    for (const client of Object.values(clients)) {
      await client.start();
      await client.waitForModels(ports.length, 120_000);
      checkRound(await client.call('predict', args, { timeoutMs: 60_000 }), ports.length, true);
      checkRound(await client.call('predict', args, { timeoutMs: 60_000, decode: false }), ports.length, false);
    }
    for (const mode of ['raw', 'decoded'] as const) {
      const decode = mode === 'decoded';
      for (let i = 0; i < rounds; i++) {
        for (const transport of modelTransports) {
          await endpoints.reset();
          const started = performance.now();
          const cpu = process.cpuUsage();
          const results = await clients[transport].call('predict', args, { timeoutMs: 60_000, decode });
          const used = process.cpuUsage(cpu);
          measured[mode][transport].wallMs.push(performance.now() - started);
          measured[mode][transport].cpuMs.push((used.user + used.system) / 1000);
          checkRound(results, ports.length, decode);
          if (transport === 'http2') {
            const stats = await endpoints.stats();
            measured.endpointMs.push(stats.handlerMs);
            measured.endpointCpuMs.push(stats.cpuMs);
          }
        }
      }
    }
    return measured;
  } finally {
    await Promise.all(Object.values(clients).map((client) => client.close()));
  }
}

async function measurePython(ports: number[], rounds: number): Promise<number[]> {
  const discovery = await TestDiscoveryServer.start({ crunchId: 'condorgame' });
  for (const [i, port] of ports.entries()) discovery.announce({ modelId: `m${i}`, port });
  const child = spawn(
    toolsPython(),
    [
      resolve(here, 'fan-out', 'reference_client.py'),
      '--ws-port',
      String(discovery.port),
      '--models',
      String(ports.length),
      '--rounds',
      String(rounds),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], detached: true },
  );
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  try {
    const [code] = (await once(child, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`the reference client exited with ${code}`);
    const line = stdout.trim().split('\n').pop() ?? '';
    const result = JSON.parse(line) as { models: number; rounds_ms: number[]; success: number[] };
    if (result.models !== ports.length || result.success.some((ok) => ok !== ports.length)) {
      throw new Error(`the reference client reached ${result.models} models, successes ${result.success.join(',')}`);
    }
    return result.rounds_ms;
  } finally {
    if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
    await discovery.close();
  }
}

/** JSON.parse alone of the same N answers: the decoding floor any JS client pays on this machine. */
function jsonParseFloorMs(text: string, count: number, rounds: number): number {
  const buffers = Array.from({ length: count }, () => Buffer.from(text));
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const started = performance.now();
    const kept: unknown[] = [];
    for (const buffer of buffers) kept.push(JSON.parse(buffer.toString('utf8')));
    times.push(performance.now() - started);
  }
  return median(times);
}

export default async function fanOut(args: string[]): Promise<Record<string, unknown>> {
  const options = parseOptions(args);
  const needed = Math.max(...options.sizes) * 5 + 200;
  const limit = Number(execFileSync('sh', ['-c', 'ulimit -n']).toString().trim());
  if (Number.isFinite(limit) && limit < needed) {
    throw new Error(`ulimit -n is ${limit}; the largest size needs about ${needed} file descriptors`);
  }
  const figures: Record<string, unknown> = { rounds: options.rounds, sizes: options.sizes };
  const payload = predictionJson();
  figures.answer_bytes = Buffer.byteLength(payload);

  for (const size of options.sizes) {
    const endpoints = await Endpoints.start();
    try {
      progress(`${size} endpoints: starting`);
      const { ports } = await endpoints.listen(size);
      progress(`${size} endpoints: our client`);
      const ours = await measureOurs(ports, endpoints, options.rounds);
      const rawMs = median(ours.raw.http2.wallMs);
      const oursMs = median(ours.decoded.http2.wallMs);
      const endpointMs = median(ours.endpointMs);
      figures[`ours_raw_ms_${size}`] = round1(rawMs);
      figures[`ours_raw_rounds_ms_${size}`] = ours.raw.http2.wallMs.map(round1);
      figures[`ours_raw_cpu_ms_${size}`] = round1(median(ours.raw.http2.cpuMs));
      figures[`ours_ms_${size}`] = round1(oursMs);
      figures[`ours_rounds_ms_${size}`] = ours.decoded.http2.wallMs.map(round1);
      figures[`ours_cpu_ms_${size}`] = round1(median(ours.decoded.http2.cpuMs));
      figures[`endpoint_compute_ms_${size}`] = round1(endpointMs);
      figures[`endpoint_process_cpu_ms_${size}`] = round1(median(ours.endpointCpuMs));
      // The round as the coordinator runs it (lib/cycle/predict-round.ts): answers kept as bytes, each
      // parsed once where it is validated and stored. The decoded round adds JSON.parse in the client.
      figures[`overhead_ms_${size}`] = round1(rawMs - endpointMs);
      figures[`overhead_decoded_ms_${size}`] = round1(oursMs - endpointMs);
      // The same rounds on the grpc-js transport: what our own channel saves.
      figures[`grpcjs_raw_ms_${size}`] = round1(median(ours.raw['grpc-js'].wallMs));
      figures[`grpcjs_raw_cpu_ms_${size}`] = round1(median(ours.raw['grpc-js'].cpuMs));
      figures[`grpcjs_ms_${size}`] = round1(median(ours.decoded['grpc-js'].wallMs));
      figures[`raw_cpu_ratio_vs_grpcjs_${size}`] =
        Math.round((median(ours.raw['grpc-js'].cpuMs) / median(ours.raw.http2.cpuMs)) * 100) / 100;
      figures[`json_parse_floor_ms_${size}`] = round1(jsonParseFloorMs(payload, size, options.rounds));
      const request = serializeCallRequest({
        methodName: 'predict',
        methodArguments: ['BTC', 86400, 300].map((value, position) => ({ position, data: encodeVariant(value) })),
        methodKwArguments: [],
      });
      const floor = await http2FloorRounds(ports, request, options.rounds);
      figures[`http2_floor_ms_${size}`] = round1(median(floor.wallMs));
      figures[`http2_floor_cpu_ms_${size}`] = round1(median(floor.cpuMs));
      if (options.python) {
        progress(`${size} endpoints: reference Python client`);
        const pythonMs = median(await measurePython(ports, options.rounds));
        figures[`python_ms_${size}`] = round1(pythonMs);
        figures[`ratio_vs_python_${size}`] = Math.round((pythonMs / oursMs) * 100) / 100;
        figures[`ratio_raw_vs_python_${size}`] = Math.round((pythonMs / rawMs) * 100) / 100;
      }
      progress(
        `${size} endpoints: ours ${round1(oursMs)} ms (raw ${round1(rawMs)} ms), python ${figures[`python_ms_${size}`] ?? '-'} ms`,
      );
    } finally {
      await endpoints.stop();
    }
  }
  return figures;
}
