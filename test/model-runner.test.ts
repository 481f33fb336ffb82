// The client against real model-runner processes serving the example trackers, found through the
// test discovery server: a realistic tick (4 assets x 30 days of 1-minute closes), then predict
// rounds that end in SUCCESS, TIMEOUT (a sleeper) and FAILED (a raiser), and the failure reports
// the orchestrator receives once the configured limits are passed.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallResult, type ModelInfo, ModelRunnerClient } from '../lib/model-runner/index.js';
import { TestDiscoveryServer } from './support/discovery-server.js';
import { type ModelProcess, startModelProcess, stopAllModelProcesses } from './support/model-processes.js';
import { mulberry32 } from './support/mulberry32.js';

const MINUTES_30_DAYS = 30 * 24 * 60;

/** A seeded random walk of 1-minute closes ending at the last whole minute, as [ts_seconds, price]. */
function priceHistory(start: number, seed: number): Array<[number, number]> {
  const random = mulberry32(seed);
  const end = Math.floor(Date.now() / 60_000) * 60;
  const points: Array<[number, number]> = [];
  let price = start;
  for (let i = MINUTES_30_DAYS - 1; i >= 0; i--) {
    price *= Math.exp((random() - 0.5) * 0.002);
    points.push([end - i * 60, Math.round(price * 100) / 100]);
  }
  return points;
}

let discovery: TestDiscoveryServer;
let client: ModelRunnerClient;
let workDirectory: string;
let behaviourFile: string;
const processes: Record<string, ModelProcess> = {};
const joined: ModelInfo[] = [];

beforeAll(async () => {
  workDirectory = await mkdtemp(join(tmpdir(), 'model-runner-test-'));
  behaviourFile = join(workDirectory, 'behaviour');
  await writeFile(behaviourFile, 'nan\n');
  discovery = await TestDiscoveryServer.start({ crunchId: 'condorgame' });
  const specs = {
    benchmark: { submission: 'benchmark' },
    mixture: { submission: 'mixture' },
    sleeper: { submission: 'misbehaving', env: { MISBEHAVE: 'sleep', MISBEHAVE_SLEEP: '60' } },
    // Its behaviour file changes during the test: NaN densities first, then raising.
    raiser: { submission: 'misbehaving', env: { MISBEHAVE_FILE: behaviourFile } },
  };
  // One at a time: the machine is shared, and each process imports numpy, pandas and pyarrow.
  for (const [modelId, spec] of Object.entries(specs)) {
    const model = await startModelProcess(spec);
    processes[modelId] = model;
    discovery.announce({ modelId, port: model.port, name: `${modelId} tracker` });
  }
  client = new ModelRunnerClient({
    className: 'condorgame.tracker.TrackerBase',
    discoveryUrl: discovery.url,
    maxConsecutiveFailures: 1,
    maxConsecutiveTimeouts: 1,
  });
  client.on('model-joined', (model) => joined.push(model));
  await client.start();
  await client.waitForModels(4, 60_000);
}, 180_000);

afterAll(async () => {
  await client?.close();
  await discovery?.close();
  await stopAllModelProcesses();
  if (workDirectory) await rm(workDirectory, { recursive: true, force: true });
});

function byModel(results: CallResult[]): Record<string, CallResult> {
  return Object.fromEntries(results.map((result) => [result.model.modelId, result]));
}

function processOutput(): string {
  return Object.entries(processes)
    .map(([id, model]) => `--- ${id}\n${model.output().slice(-2_000)}`)
    .join('\n');
}

describe('ModelRunnerClient with real model-runner processes', () => {
  it('every announced model joined', () => {
    expect(joined.map((model) => model.modelId).sort()).toEqual(['benchmark', 'mixture', 'raiser', 'sleeper']);
    expect(joined.find((model) => model.modelId === 'mixture')?.name).toBe('mixture tracker');
  });

  it('ticks a 30-day history of four assets to every model', async () => {
    const history = {
      BTC: priceHistory(60_000, 1),
      ETH: priceHistory(3_000, 2),
      XAU: priceHistory(2_300, 3),
      SOL: priceHistory(150, 4),
    };
    expect(history.BTC.length).toBe(43_200);
    const results = await client.call('tick', [history], { timeoutMs: 60_000 });
    const statuses = Object.fromEntries(results.map((result) => [result.model.modelId, result.status]));
    expect(statuses, processOutput()).toEqual({
      benchmark: 'SUCCESS',
      mixture: 'SUCCESS',
      sleeper: 'SUCCESS',
      raiser: 'SUCCESS',
    });
    expect(results.every((result) => result.value === null)).toBe(true);
  });

  it('predicts: densities from the trackers, TIMEOUT for the sleeper, NaN parameters decoded', async () => {
    const results = byModel(await client.call('predict', ['BTC', 3600, 60], { timeoutMs: 10_000 }));

    const benchmark = results.benchmark;
    expect(benchmark?.status, `${benchmark?.error}\n${processOutput()}`).toBe('SUCCESS');
    const densities = benchmark?.value as Array<{
      type: string;
      components: Array<{ density: { params: { scale: number } } }>;
    }>;
    expect(densities).toHaveLength(60);
    expect(densities[0]?.type).toBe('mixture');
    expect(densities[0]?.components[0]?.density.params.scale).toBeGreaterThan(0);
    expect(benchmark?.execTimeUs).toBeGreaterThan(0);

    const mixture = results.mixture;
    expect(mixture?.status).toBe('SUCCESS');
    const wrapped = mixture?.value as Array<{ step: number; prediction: { type: string } }>;
    expect(wrapped).toHaveLength(60);
    expect(wrapped[59]).toMatchObject({ step: 3600, prediction: { type: 'mixture' } });

    expect(results.sleeper).toMatchObject({ status: 'TIMEOUT', value: null });
    expect(results.sleeper?.error).toContain('DEADLINE_EXCEEDED');

    // Python's json.dumps wrote bare NaN and Infinity; they decode instead of failing.
    expect(results.raiser?.status).toBe('SUCCESS');
    const nanDensities = results.raiser?.value as Array<{ params: { loc: number; scale: number } }>;
    expect(nanDensities).toHaveLength(60);
    expect(nanDensities[0]?.params.loc).toBeNaN();
    expect(nanDensities[0]?.params.scale).toBe(Number.POSITIVE_INFINITY);
  });

  it('FAILED for a raising model, and both misbehaving models reported once past the limits', async () => {
    await writeFile(behaviourFile, 'raise\n');
    const second = byModel(await client.call('predict', ['BTC', 3600, 60], { timeoutMs: 10_000 }));
    expect(second.raiser).toMatchObject({ status: 'FAILED', value: null });
    expect(second.raiser?.error).toContain('misbehaving tracker asked to raise');
    // The sleeper rests this round (a skip counts as its second timeout, past the limit of 1).
    expect(second.sleeper).toMatchObject({ status: 'TIMEOUT', error: expect.stringContaining('skipped') });
    expect(second.benchmark?.status).toBe('SUCCESS');

    const third = byModel(await client.call('predict', ['ETH', 3600, 60], { timeoutMs: 10_000 }));
    expect(third.raiser?.status).toBe('FAILED');

    const reports = await discovery.waitForReports(2, 20_000);
    const codes = Object.fromEntries(reports.map((report) => [report.model_id, report.failure_code]));
    expect(codes).toEqual({ sleeper: 'MULTIPLE_TIMEOUT', raiser: 'MULTIPLE_FAILED' });
    expect(reports.every((report) => report.ip === '127.0.0.1')).toBe(true);
    expect(
      client
        .models()
        .map((model) => model.modelId)
        .sort(),
    ).toEqual(['benchmark', 'mixture']);
  });

  it('the grpc-js transport (MODEL_TRANSPORT=grpc-js) reaches the same processes with the same answers', async () => {
    const models = (['benchmark', 'mixture'] as const).map((modelId) => ({
      modelId,
      deploymentId: `${modelId}_grpc_js`,
      name: modelId,
      cruncherId: modelId,
      cruncherName: modelId,
      ip: '127.0.0.1',
      port: processes[modelId]?.port ?? 0,
    }));
    const library = new ModelRunnerClient({
      className: 'condorgame.tracker.TrackerBase',
      models,
      transport: 'grpc-js',
    });
    try {
      await library.start();
      await library.waitForModels(2, 60_000);
      const history = { BTC: priceHistory(60_000, 1).slice(-1_440) };
      const ticks = await library.call('tick', [history], { timeoutMs: 60_000 });
      expect(ticks.map((result) => result.status)).toEqual(['SUCCESS', 'SUCCESS']);
      const results = byModel(await library.call('predict', ['BTC', 3600, 60], { timeoutMs: 10_000 }));
      expect(results.benchmark?.status, results.benchmark?.error).toBe('SUCCESS');
      expect(results.benchmark?.value).toHaveLength(60);
      expect(results.mixture?.value).toMatchObject(
        expect.arrayContaining([{ step: 3600, prediction: expect.anything() }]),
      );
    } finally {
      await library.close();
    }
  });
});
