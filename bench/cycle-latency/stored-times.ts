// When each prediction row reached the database: a statement-level trigger (bench database only)
// notes the clock at the end of every insert into predictions, for the rows it inserted.
import { sql } from 'slonik';
import { z } from 'zod';
import type { DatabasePool } from '../../lib/db/index.js';

export async function recordStoredTimes(db: DatabasePool): Promise<void> {
  await db.query(sql.unsafe`CREATE TABLE bench_stored (id bigint PRIMARY KEY, stored_at timestamptz NOT NULL)`);
  await db.query(sql.unsafe`
    CREATE FUNCTION bench_note_stored() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO bench_stored (id, stored_at) SELECT id, clock_timestamp() FROM inserted;
      RETURN NULL;
    END $$
  `);
  await db.query(sql.unsafe`
    CREATE TRIGGER bench_stored AFTER INSERT ON predictions
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION bench_note_stored()
  `);
}

const slotRow = z.object({
  model_id: z.string(),
  status: z.string(),
  reason: z.string().nullable(),
  /** From the slot's instant to the row's insert, ms. */
  stored_ms: z.number(),
  /** From the slot's instant to the call (performed_at), ms. */
  called_ms: z.number(),
});
export type SlotRow = z.infer<typeof slotRow>;

/** Every row of one slot, with its times from the slot's instant. */
export function slotRows(db: DatabasePool, slotSec: number): Promise<readonly SlotRow[]> {
  return db.any(sql.type(slotRow)`
    SELECT p.model_id, p.status, p.reason,
      ((extract(epoch FROM s.stored_at) - ${slotSec}) * 1000)::float8 AS stored_ms,
      ((extract(epoch FROM p.performed_at) - ${slotSec}) * 1000)::float8 AS called_ms
    FROM predictions p JOIN bench_stored s USING (id)
    WHERE p.scheduled_at = to_timestamp(${slotSec})
  `);
}
