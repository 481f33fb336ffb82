// Two model-calls workers feed the same models: how far each deployment has been fed lives in the
// database, so a model gets its whole price history once, whichever worker calls it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PriceFeed } from '../lib/cycle/index.js';
import { insertPrices } from '../lib/db/index.js';
import { getGame } from '../lib/game/index.js';
import { type ModelInfo, ModelRunnerClient } from '../lib/model-runner/index.js';
import { type FakeModelServer, startFakeModelServer } from '../lib/model-runner/testing/fake-model-server.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

const T0 = 1_764_000_000 - (1_764_000_000 % 60);
const game = getGame('condor');

/** The points of every tick a model received, per asset. */
function ticks(server: FakeModelServer): Array<Record<string, Array<[number, number]>>> {
  return server.calls
    .filter((call) => call.method === 'tick')
    .map((call) => call.args[0] as Record<string, Array<[number, number]>>);
}

describe('price feed shared by two model-calls workers', () => {
  let db: TestDatabase;
  let server: FakeModelServer;
  const clients: ModelRunnerClient[] = [];
  let model: ModelInfo;

  async function worker(): Promise<{ client: ModelRunnerClient; feed: PriceFeed }> {
    const client = new ModelRunnerClient({ className: 'condorgame.tracker.TrackerBase', models: [model] });
    clients.push(client);
    await client.start();
    await client.waitForModels(1, 10_000);
    return { client, feed: new PriceFeed({ client, db: db.pool, game, timeoutMs: 5_000 }) };
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startFakeModelServer();
    model = {
      modelId: 'm1',
      deploymentId: 'm1_20260101_000000_000',
      name: 'm1',
      cruncherId: 'c1',
      cruncherName: 'c1',
      ip: server.host,
      port: server.port,
    };
    await insertPrices(
      db.pool,
      Array.from({ length: 30 }, (_, i) => ({ asset: 'BTC', ts: T0 + i * 60, price: 100 + i })),
    );
  });

  afterAll(async () => {
    for (const client of clients) await client.close();
    await server.stop();
    await db.drop();
  });

  it('sends the whole history once, then only new points, whichever worker feeds', async () => {
    const a = await worker();
    const b = await worker();
    const first = await a.feed.feed({ assets: ['BTC'], untilSec: T0 + 29 * 60 });
    expect(first).toMatchObject({ ticked: 1, fullHistory: 1 });
    expect(a.feed.isFed(model)).toBe(true);

    // The other worker has never talked to this model, yet knows it is fed and up to date.
    const again = await b.feed.feed({ assets: ['BTC'], untilSec: T0 + 29 * 60 });
    expect(again).toMatchObject({ ticked: 0, fullHistory: 0, upToDate: 1 });
    expect(b.feed.isFed(model)).toBe(true);

    await insertPrices(db.pool, [{ asset: 'BTC', ts: T0 + 30 * 60, price: 130 }]);
    const next = await b.feed.feed({ assets: ['BTC'], untilSec: T0 + 30 * 60 });
    expect(next).toMatchObject({ ticked: 1, fullHistory: 0 });

    const received = ticks(server);
    expect(received).toHaveLength(2);
    expect(received[0]!.BTC).toHaveLength(30);
    expect(received[1]!.BTC).toEqual([[T0 + 30 * 60, 130]]);
  });

  it('sends the history again after a worker set the model up anew, and not before', async () => {
    const [a, b] = [await worker(), await worker()];
    await a.feed.feed({ assets: ['BTC'], untilSec: T0 + 30 * 60 });
    expect(b.feed.isFed(model)).toBe(false); // b has not looked yet
    // A reconnect means the model process may be a new one: its memory may be gone.
    a.client.emit('model-reconnected', model);
    await expect.poll(async () => (await b.feed.feed({ assets: ['BTC'], untilSec: T0 + 30 * 60 })).fullHistory).toBe(1);
    expect(ticks(server).at(-1)!.BTC).toHaveLength(31);
    expect(b.feed.isFed(model)).toBe(true);
  });
});
