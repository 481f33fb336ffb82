// The predict round's cadence rules, against a real PostgreSQL and real gRPC model servers (the
// in-process fake ones): answers are stored as they come, so a model that never answers holds
// nobody's row; a model slow to take its price tick holds nobody's prediction; and a cancelled round
// (a Temporal cancellation reaching the predictShard activity through its heartbeat) stops at once.
import { setTimeout as sleep } from 'node:timers/promises';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { sql } from 'slonik';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createModelActivities } from '../activities/models.js';
import { PriceFeed, predictRound } from '../lib/cycle/index.js';
import { insertPrices } from '../lib/db/index.js';
import { condor } from '../lib/game/index.js';
import { type ModelInfo, ModelRunnerClient } from '../lib/model-runner/index.js';
import {
  type FakeModelBehaviour,
  type FakeModelServer,
  startFakeModelServer,
} from '../lib/model-runner/testing/fake-model-server.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

const normal = { type: 'builtin', name: 'norm', params: { loc: 0, scale: 0.001 } };
/** horizon 300 / step 60: five densities. */
const goodAnswer = { value: [normal, normal, normal, normal, normal] };
const never = () => new Promise<never>(() => {});

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

let db: TestDatabase;
const untilSec = Math.floor(Date.now() / 60_000) * 60;
beforeAll(async () => {
  db = await createTestDatabase();
  cleanup.push(() => db.drop());
  await insertPrices(
    db.pool,
    Array.from({ length: 10 }, (_, i) => ({ asset: 'BTC', ts: untilSec - 600 + i * 60, price: 60_000 + i })),
  );
  // Dropped by the first afterEach; every test below makes its own rows.
  cleanup.splice(0);
}, 60_000);

async function fleet(behaviours: Record<string, FakeModelBehaviour>) {
  const servers: Record<string, FakeModelServer> = {};
  const models: ModelInfo[] = [];
  for (const [modelId, behaviour] of Object.entries(behaviours)) {
    const server = await startFakeModelServer({ behaviour });
    cleanup.push(() => server.stop());
    servers[modelId] = server;
    models.push({
      modelId,
      deploymentId: `${modelId}_1`,
      name: modelId,
      cruncherId: 'c',
      cruncherName: 'c',
      ip: '127.0.0.1',
      port: server.port,
    });
  }
  const client = new ModelRunnerClient({ className: condor.setupClassName, models });
  cleanup.push(() => client.close());
  await client.start();
  await client.waitForModels(models.length, 10_000);
  return { client, servers };
}

const storedRow = z.object({ model_id: z.string(), status: z.string(), reason: z.string().nullable() });
const rowsAt = (slotSec: number) =>
  db.pool.any(sql.type(storedRow)`
    SELECT model_id, status, reason FROM predictions WHERE scheduled_at = to_timestamp(${slotSec}) ORDER BY model_id
  `);

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const until = Date.now() + 30_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await sleep(20);
  }
}

describe('a predict round', () => {
  it('stores answers as they come: neither a silent model nor a slow first tick holds the others', async () => {
    let releaseTick = () => {};
    const tickReleased = new Promise<void>((resolve) => {
      releaseTick = resolve;
    });
    const { client, servers } = await fleet({
      honest: { call: ({ method }) => (method === 'tick' ? { value: null } : goodAnswer) },
      silent: { call: ({ method }) => (method === 'tick' ? { value: null } : never()) },
      slow_tick: {
        call: ({ method }) => (method === 'tick' ? tickReleased.then(() => ({ value: null })) : goodAnswer),
      },
    });
    const feed = new PriceFeed({ client, db: db.pool, game: condor, timeoutMs: 600_000 });
    const slotSec = untilSec;
    const stop = new AbortController();
    // Deadlines far past the test's own timeout: only the rules under test can end it in time.
    const round = predictRound(
      { client, db: db.pool, game: condor, feed },
      {
        due: [{ asset: 'BTC', horizonSec: 300, stepSec: 60, slotSec }],
        timeoutMs: 600_000,
        feed: { assets: ['BTC'], untilSec },
        signal: stop.signal,
      },
    );
    round.catch(() => {});
    // Every model is new, so each is asked once its own history tick succeeded.
    const first = await eventually(
      () => rowsAt(slotSec),
      (rows) => rows.length > 0,
      "the honest model's row",
    );
    expect(first).toEqual([{ model_id: 'honest', status: 'SUCCESS', reason: null }]);
    expect(servers.slow_tick?.calls.map((call) => call.method)).toEqual(['tick']);
    releaseTick();
    const second = await eventually(
      () => rowsAt(slotSec),
      (rows) => rows.length > 1,
      "the slow ticker's row",
    );
    expect(second.map((row) => [row.model_id, row.status])).toEqual([
      ['honest', 'SUCCESS'],
      ['slow_tick', 'SUCCESS'],
    ]);
    expect(servers.silent?.calls.map((call) => call.method)).toEqual(['tick', 'predict']);

    // Cancelling ends the silent model's call at once; the round fails (Temporal retries or drops it).
    stop.abort(new Error('cancelled by the test'));
    await expect(round).rejects.toThrow('cancelled by the test');
    expect((await rowsAt(slotSec)).map((row) => row.model_id)).toEqual(['honest', 'slow_tick']);
  });

  it("a model still busy with an earlier round's call is TIMEOUT at once in the next round", async () => {
    const { client } = await fleet({
      honest: { call: () => goodAnswer },
      stuck: { call: ({ method }) => (method === 'predict' ? never() : { value: null }) },
    });
    const feed = new PriceFeed({ client, db: db.pool, game: condor, timeoutMs: 10_000 });
    await feed.feed({ assets: ['BTC'], untilSec });
    const deps = { client, db: db.pool, game: condor, feed };
    const earlier = new AbortController();
    const first = predictRound(deps, {
      due: [{ asset: 'BTC', horizonSec: 300, stepSec: 60, slotSec: untilSec + 60 }],
      timeoutMs: 600_000,
      signal: earlier.signal,
    });
    first.catch(() => {});
    await eventually(
      () => rowsAt(untilSec + 60),
      (rows) => rows.length === 1,
      'the first round to store the honest answer',
    );
    const second = await predictRound(deps, {
      due: [{ asset: 'BTC', horizonSec: 300, stepSec: 60, slotSec: untilSec + 120 }],
      timeoutMs: 600_000,
    });
    expect(second.byStatus).toEqual({ SUCCESS: 1, FAILED: 0, TIMEOUT: 1, ABSENT: 0 });
    const rows = await rowsAt(untilSec + 120);
    expect(rows.find((row) => row.model_id === 'stuck')?.reason).toMatch(/still busy with its previous call/);
    earlier.abort();
    await expect(first).rejects.toThrow();
  });
});

describe('the predictShard activity', () => {
  it('stops its model calls at once when Temporal cancels it', async () => {
    const { client, servers } = await fleet({
      silent: { call: ({ method }) => (method === 'tick' ? { value: null } : never()) },
    });
    const activities = createModelActivities({ client, db: db.pool, game: condor });
    const environment = new MockActivityEnvironment();
    const running = environment.run(activities.predictShard, {
      game: condor.id,
      assets: ['BTC'],
      untilSec,
      shard: { index: 0, count: 1 },
      due: [{ asset: 'BTC', horizonSec: 300, stepSec: 60, slotSec: untilSec + 180 }],
      timeoutMs: 600_000,
    });
    running.catch(() => {});
    await eventually(
      async () => servers.silent?.calls.map((call) => call.method) ?? [],
      (methods) => methods.includes('predict'),
      'the predict call to reach the model',
    );
    environment.cancel();
    await expect(running).rejects.toBeInstanceOf(CancelledFailure);
    // The call was abandoned, not waited out: the model is free for its next call at once.
    expect(await rowsAt(untilSec + 180)).toEqual([]);
  });
});
