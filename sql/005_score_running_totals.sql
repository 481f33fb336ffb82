-- Running totals of scores per (model, asset, horizon, step), for the leaderboard refresh (lib/leaderboard).
--
-- A refresh needs, per group, the mean score over three windows of resolvable_at ending at one instant.
-- Aggregating every score of the last 7 days (4 M rows at 1,000 models) takes seconds; with a running sum
-- and count per group, in resolvable_at order, a window's mean is the difference of two rows found by
-- index probes. Sums are numeric, so differences are exact (no cancellation after a huge score) and do
-- not depend on the order rows were written in.
--
-- Writers stay cheap: triggers on `scores` copy each new or changed value here and mark the group dirty
-- from the earliest changed row; score_running_totals_settle() recomputes the dirty tails in one
-- statement, and the refresh calls it first. Deleting a group's oldest rows (retention) changes no
-- difference between the remaining ones, so it marks nothing.

-- Number 005 rather than 004: test/db-migrations.test.ts adds its own 004_broken.sql to a copy of sql/.

CREATE TABLE score_groups (
  id            integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  model_id      text NOT NULL REFERENCES models (model_id) ON DELETE CASCADE,
  asset         text NOT NULL,
  horizon       integer NOT NULL,
  step          integer NOT NULL,
  -- The earliest row, by (resolvable_at, prediction_id), whose running totals may be out of date.
  dirty_from_at timestamptz,
  dirty_from_id bigint,
  UNIQUE (model_id, asset, horizon, step)
);

-- One row per score. running_sum / running_count cover the group's rows up to and including this one
-- (plus any older rows deleted since, which cancel out in a difference); null until settled.
CREATE TABLE score_running_totals (
  prediction_id bigint PRIMARY KEY REFERENCES scores (prediction_id) ON DELETE CASCADE,
  group_id      integer NOT NULL REFERENCES score_groups (id) ON DELETE CASCADE,
  resolvable_at timestamptz NOT NULL,
  value         double precision NOT NULL,
  running_sum   numeric,
  running_count bigint
) WITH (fillfactor = 90); -- room for the settle's update of each new row to stay on its page (HOT)
CREATE UNIQUE INDEX score_running_totals_order_idx ON score_running_totals (group_id, resolvable_at, prediction_id);

-- Writers take this advisory lock shared, the settle exclusive: a refresh never reads rows that a
-- concurrent writer committed after the settle, unsettled.
CREATE FUNCTION score_running_totals_lock_key() RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT 7301946215';

CREATE FUNCTION score_running_totals_mark(group_ids integer[], from_ats timestamptz[], from_ids bigint[])
RETURNS void LANGUAGE sql AS $$
  UPDATE score_groups g SET dirty_from_at = s.from_at, dirty_from_id = s.from_id
  FROM (
    SELECT DISTINCT ON (group_id) group_id, from_at, from_id
    FROM unnest(group_ids, from_ats, from_ids) AS u (group_id, from_at, from_id)
    ORDER BY group_id, from_at, from_id
  ) s
  WHERE g.id = s.group_id
    AND (g.dirty_from_at IS NULL OR (s.from_at, s.from_id) < (g.dirty_from_at, g.dirty_from_id))
$$;

CREATE FUNCTION score_running_totals_on_scores() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  group_ids integer[];
  from_ats timestamptz[];
  from_ids bigint[];
BEGIN
  PERFORM pg_advisory_xact_lock_shared(score_running_totals_lock_key());
  INSERT INTO score_groups (model_id, asset, horizon, step)
  SELECT DISTINCT p.model_id, p.asset, p.horizon, p.step
  FROM changed c JOIN predictions p ON p.id = c.prediction_id
  ON CONFLICT DO NOTHING;
  -- A rescore that leaves the value as it was marks nothing: re-running a backfill costs no settle.
  WITH touched AS (
    INSERT INTO score_running_totals AS t (prediction_id, group_id, resolvable_at, value)
    SELECT c.prediction_id, g.id, p.resolvable_at, c.value
    FROM changed c
    JOIN predictions p ON p.id = c.prediction_id
    JOIN score_groups g ON (g.model_id, g.asset, g.horizon, g.step) = (p.model_id, p.asset, p.horizon, p.step)
    ON CONFLICT (prediction_id) DO UPDATE SET value = excluded.value
      WHERE t.value IS DISTINCT FROM excluded.value
    RETURNING t.group_id, t.resolvable_at, t.prediction_id
  )
  SELECT array_agg(group_id), array_agg(resolvable_at), array_agg(prediction_id)
  INTO group_ids, from_ats, from_ids
  FROM touched;
  PERFORM score_running_totals_mark(group_ids, from_ats, from_ids);
  RETURN NULL;
END
$$;

CREATE FUNCTION score_running_totals_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  group_ids integer[];
  from_ats timestamptz[];
  from_ids bigint[];
BEGIN
  PERFORM pg_advisory_xact_lock_shared(score_running_totals_lock_key());
  -- Only a deleted row with a surviving row before it breaks a difference the refresh takes.
  SELECT array_agg(d.group_id), array_agg(d.resolvable_at), array_agg(d.prediction_id)
  INTO group_ids, from_ats, from_ids
  FROM gone d
  WHERE EXISTS (
    SELECT 1 FROM score_running_totals t
    WHERE t.group_id = d.group_id AND (t.resolvable_at, t.prediction_id) < (d.resolvable_at, d.prediction_id)
  );
  PERFORM score_running_totals_mark(group_ids, from_ats, from_ids);
  RETURN NULL;
END
$$;

-- Recomputes every dirty tail from the last clean row before it; returns how many rows changed. Call
-- it inside the transaction that then reads the totals (it holds the lock until that commits).
CREATE FUNCTION score_running_totals_settle() RETURNS bigint LANGUAGE plpgsql
-- The row estimates of a tail are poor; a hash join over the whole table would cost seconds where the
-- index nested loop costs milliseconds. JIT compiling costs more than the work itself.
SET jit = off SET enable_hashjoin = off SET enable_mergejoin = off
AS $$
DECLARE
  settled bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(score_running_totals_lock_key());
  WITH dirty AS (
    SELECT g.id AS group_id, g.dirty_from_at AS from_at, g.dirty_from_id AS from_id,
           coalesce(b.running_sum, 0) AS base_sum, coalesce(b.running_count, 0) AS base_count
    FROM score_groups g
    LEFT JOIN LATERAL (
      SELECT t.running_sum, t.running_count FROM score_running_totals t
      WHERE t.group_id = g.id AND (t.resolvable_at, t.prediction_id) < (g.dirty_from_at, g.dirty_from_id)
      ORDER BY t.resolvable_at DESC, t.prediction_id DESC
      LIMIT 1
    ) b ON true
    WHERE g.dirty_from_at IS NOT NULL
  ),
  recomputed AS (
    SELECT t.prediction_id,
           d.base_sum + sum(t.value::numeric) OVER w AS running_sum,
           d.base_count + count(*) OVER w AS running_count
    FROM dirty d
    JOIN score_running_totals t
      ON t.group_id = d.group_id AND (t.resolvable_at, t.prediction_id) >= (d.from_at, d.from_id)
    WINDOW w AS (PARTITION BY t.group_id ORDER BY t.resolvable_at, t.prediction_id)
  )
  UPDATE score_running_totals t
  SET running_sum = r.running_sum, running_count = r.running_count
  FROM recomputed r
  WHERE t.prediction_id = r.prediction_id
    AND (t.running_sum, t.running_count) IS DISTINCT FROM (r.running_sum, r.running_count);
  GET DIAGNOSTICS settled = ROW_COUNT;
  UPDATE score_groups SET dirty_from_at = NULL, dirty_from_id = NULL WHERE dirty_from_at IS NOT NULL;
  RETURN settled;
END
$$;

CREATE TRIGGER score_running_totals_insert AFTER INSERT ON scores
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION score_running_totals_on_scores();
CREATE TRIGGER score_running_totals_update AFTER UPDATE ON scores
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION score_running_totals_on_scores();
CREATE TRIGGER score_running_totals_delete AFTER DELETE ON score_running_totals
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION score_running_totals_on_delete();

-- Scores written before this migration.
INSERT INTO score_groups (model_id, asset, horizon, step)
SELECT DISTINCT p.model_id, p.asset, p.horizon, p.step FROM scores s JOIN predictions p ON p.id = s.prediction_id;
INSERT INTO score_running_totals (prediction_id, group_id, resolvable_at, value, running_sum, running_count)
SELECT s.prediction_id, g.id, p.resolvable_at, s.value, sum(s.value::numeric) OVER w, count(*) OVER w
FROM scores s
JOIN predictions p ON p.id = s.prediction_id
JOIN score_groups g ON (g.model_id, g.asset, g.horizon, g.step) = (p.model_id, p.asset, p.horizon, p.step)
WINDOW w AS (PARTITION BY g.id ORDER BY p.resolvable_at, s.prediction_id);
