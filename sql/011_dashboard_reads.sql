-- Reads of the dashboard and the report gateway's caches.

-- The dashboard's cycle health reads the newest predict cycles by their scheduled instant: this index
-- lets it find the last N cycles with a skip scan and read only their rows, instead of grouping the
-- whole predictions table. Cycles are written in time order, so it grows at its right edge only.
CREATE INDEX predictions_scheduled_idx ON predictions (scheduled_at) WHERE scheduled_at IS NOT NULL;

-- A version per table whose rows the gateway keeps report bodies of: any statement that changes the
-- table bumps it in the same transaction, so a reader that sees the new version also sees the new rows,
-- and a cached body is reused only while the version it was read at is still the current one. One
-- update per statement (writes are set-based), not per row.
CREATE TABLE report_versions (
  table_name text PRIMARY KEY,
  version    bigint NOT NULL DEFAULT 0
);
INSERT INTO report_versions (table_name) VALUES ('model_score_snapshots');

CREATE FUNCTION bump_report_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE report_versions SET version = version + 1 WHERE table_name = TG_TABLE_NAME;
  RETURN NULL;
END
$$;

CREATE TRIGGER model_score_snapshots_version
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON model_score_snapshots
  FOR EACH STATEMENT EXECUTE FUNCTION bump_report_version();
