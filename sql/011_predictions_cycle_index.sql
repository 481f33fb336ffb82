-- The dashboard's cycle health reads the newest predict cycles by their scheduled instant: this index
-- lets it find the last N cycles with a skip scan and read only their rows, instead of grouping the
-- whole predictions table. Cycles are written in time order, so it grows at its right edge only.
CREATE INDEX predictions_scheduled_idx ON predictions (scheduled_at) WHERE scheduled_at IS NOT NULL;
