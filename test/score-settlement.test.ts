// Settlement before scoring, on a real PostgreSQL: the score pass's listing and its scoring activity
// (as the score pass calls them) leave a prediction unscored while a step has no stored price within
// the game's staleness bound, score it once its prices settle, and score it failed ("no settled price")
// once it is unsettled past the game's limit, never against a price minutes away (the old rule would
// have scored ETH here: its prices reach resolvable_at, with a step 60.5 s from any price).
import { MockActivityEnvironment } from '@temporalio/testing';
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createScoreListingActivities, createScoringActivities } from '../activities/scoring.js';
import { condor, NO_SETTLED_PRICE } from '../lib/game/index.js';
import { insertModels, insertPlannedPredictions, norm, storePrices } from './leaderboard-support.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

const T0 = 1_750_000_020; // a whole minute
const HORIZON = 300;
const STEP = 60;
/** A call made half a second into the minute, as a predict cycle's are. */
const PERFORMED = T0 + 0.5;
const RESOLVES = PERFORMED + HORIZON;
const LIMIT = condor.settlement.limitSeconds;

let db: TestDatabase;
let listing: ReturnType<typeof createScoreListingActivities>;
let scoring: ReturnType<typeof createScoringActivities>;

const minutes = (from: number, to: number, skip: readonly number[] = []) => {
  const points = [];
  for (let ts = from; ts <= to; ts += 60) if (!skip.includes(ts)) points.push({ ts, price: 100 + (ts - T0) / 600 });
  return points;
};

beforeAll(async () => {
  db = await createTestDatabase();
  listing = createScoreListingActivities({ db: db.pool, game: condor });
  scoring = createScoringActivities({ db: db.pool, game: condor });
  await insertModels(db.pool, ['steady']);
  // BTC: prices up to T0 + 240, the minute of the last step (T0 + 300) not yet in.
  await storePrices(db.pool, 'BTC', minutes(T0 - 600, T0 + 240));
  // ETH: prices well past resolvable_at, but T0 + 120 and T0 + 180 never arrived: the step at
  // T0 + 120.5 has no price within 60 s (the nearest, T0 + 60 and T0 + 240, are 60.5 s and more away).
  await storePrices(db.pool, 'ETH', minutes(T0 - 600, T0 + 900, [T0 + 120, T0 + 180]));
  await insertPlannedPredictions(
    db.pool,
    ['BTC', 'ETH'].map((asset) => ({
      modelId: 'steady',
      asset,
      performedAt: PERFORMED,
      status: 'SUCCESS',
      distributions: Array(HORIZON / STEP).fill(norm(0.001)),
    })),
    { horizon: HORIZON, step: STEP },
  );
}, 60_000);

afterAll(async () => {
  await db?.drop();
});

const idOf = (asset: string) =>
  db.pool.oneFirst(sql.type(z.object({ id: z.number() }))`SELECT id FROM predictions WHERE asset = ${asset}`);
const scoreOf = (asset: string) =>
  db.pool.maybeOne(sql.type(
    z.object({ value: z.number(), success: z.boolean(), failed_reason: z.string().nullable() }),
  )`
    SELECT s.value, s.success, s.failed_reason FROM scores s JOIN predictions p ON p.id = s.prediction_id
    WHERE p.asset = ${asset}
  `);
const listed = async (asOf: number) =>
  (await listing.nextScoringPage({ limit: 10, game: 'condor', asOf })).ids.sort((a, b) => a - b);
const score = (ids: number[], asOf: number) =>
  new MockActivityEnvironment().run(scoring.scorePredictions, { predictionIds: ids, game: 'condor', asOf });

describe('settlement', () => {
  it('leaves a prediction waiting while its last step has no settled price, then scores it', async () => {
    const btc = await idOf('BTC');
    const eth = await idOf('ETH');
    const asOf = RESOLVES + 120;
    expect(await listed(asOf)).toEqual([]);
    // Asked to score them anyway (a retried batch), it leaves both unscored.
    expect(await score([btc, eth], asOf)).toMatchObject({ predictions: 2, scored: 0, unscored: 2 });
    expect(await scoreOf('BTC')).toBeNull();

    // The minute of the last step (the one nearest resolvable_at) closes and is stored: BTC is settled,
    // ETH still has its gap.
    await storePrices(db.pool, 'BTC', minutes(T0 + 300, T0 + 300));
    expect(await listed(asOf)).toEqual([btc]);
    expect(await score([btc], asOf)).toMatchObject({ scored: 1, failed: 0 });
    expect(await scoreOf('BTC')).toMatchObject({ success: true, failed_reason: null });
  });

  it('scores a prediction unsettled past the game limit as failed, "no settled price"', async () => {
    const eth = await idOf('ETH');
    const justBefore = RESOLVES + LIMIT - 1;
    expect(await listed(justBefore)).toEqual([]);
    expect(await score([eth], justBefore)).toMatchObject({ scored: 0, unscored: 1 });

    const past = RESOLVES + LIMIT + 1;
    expect(await listed(past)).toEqual([eth]);
    expect(await score([eth], past)).toMatchObject({ scored: 1, failed: 1 });
    expect(await scoreOf('ETH')).toEqual({ value: 0, success: false, failed_reason: NO_SETTLED_PRICE });
  });
});
