import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { activatePredictionGroups, activePredictionConfigs } from '../lib/db/index.js';
import { condorDemo } from '../lib/game/index.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

describe('activatePredictionGroups', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('makes exactly the given groups active, keeps the others as inactive rows, and is idempotent', async () => {
    expect(await activePredictionConfigs(db.pool)).toHaveLength(8); // the seeded Condor defaults
    for (let i = 0; i < 2; i++) {
      expect(await activatePredictionGroups(db.pool, condorDemo.defaultPredictionConfigs)).toBe(4);
      const active = await activePredictionConfigs(db.pool);
      expect(active.map((c) => [c.asset, c.horizon, c.step, c.interval])).toEqual([
        ['BTC', 120, 60, 60],
        ['ETH', 120, 60, 60],
        ['XAU', 120, 60, 60],
        ['SOL', 120, 60, 60],
      ]);
    }
    const total = await db.pool.oneFirst(
      sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM prediction_configs`,
    );
    expect(total).toBe(12);
  });
});
