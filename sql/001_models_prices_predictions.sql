-- Participants, market data and predictions: what a predict cycle writes.
-- Times are timestamptz (UTC instants, microsecond precision); horizon, step and interval are seconds.

CREATE TABLE models (
  model_id        text PRIMARY KEY,
  name            text NOT NULL,
  cruncher_id     text,
  cruncher_name   text,
  wallet          text,
  hotkey          text,
  first_seen_at   timestamptz NOT NULL DEFAULT now(),
  last_seen_at    timestamptz NOT NULL DEFAULT now(),
  -- Only models expected to run get ABSENT rows when they do not answer (GAME.md §7).
  expected_to_run boolean NOT NULL DEFAULT true
);

CREATE TABLE deployments (
  deployment_id        text PRIMARY KEY,
  model_id             text NOT NULL REFERENCES models (model_id) ON DELETE CASCADE,
  ip                   text,
  port                 integer CHECK (port BETWEEN 0 AND 65535),
  state                text NOT NULL,
  first_seen_at        timestamptz NOT NULL DEFAULT now(),
  last_seen_at         timestamptz NOT NULL DEFAULT now(),
  -- Null until the deployment received its full-history tick; a predict must wait for it.
  full_history_sent_at timestamptz
);
CREATE INDEX deployments_model_idx ON deployments (model_id, last_seen_at DESC);

-- One-minute closes. The primary key makes every price write idempotent.
CREATE TABLE prices (
  asset text NOT NULL,
  ts    timestamptz NOT NULL,
  price double precision NOT NULL CHECK (price > 0 AND price < 'Infinity'),
  PRIMARY KEY (asset, ts)
);

CREATE TABLE prediction_configs (
  id               integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  asset            text NOT NULL,
  horizon          integer NOT NULL CHECK (horizon > 0),
  step             integer NOT NULL CHECK (step > 0 AND horizon % step = 0),
  interval_seconds integer NOT NULL CHECK (interval_seconds > 0),
  active           boolean NOT NULL DEFAULT true,
  UNIQUE (asset, horizon, step)
);

-- Condor defaults (GAME.md §2): a 24 h forecast in 5-minute steps every hour per group, and a 1 h
-- forecast in 1-minute steps every 12 minutes, each group cycling over its four assets.
INSERT INTO prediction_configs (asset, horizon, step, interval_seconds)
SELECT asset, horizon, step, interval_seconds
FROM unnest(ARRAY['BTC', 'ETH', 'XAU', 'SOL']) AS assets (asset)
CROSS JOIN (VALUES (86400, 300, 3600), (3600, 60, 720)) AS groups (horizon, step, interval_seconds);

CREATE TABLE predictions (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  model_id       text NOT NULL REFERENCES models (model_id),
  -- No foreign key: deployments are pruned sooner than the predictions they made.
  deployment_id  text,
  asset          text NOT NULL,
  horizon        integer NOT NULL CHECK (horizon > 0),
  step           integer NOT NULL CHECK (step > 0),
  status         text NOT NULL CHECK (status IN ('SUCCESS', 'FAILED', 'TIMEOUT', 'ABSENT')),
  reason         text,
  exec_time_us   bigint CHECK (exec_time_us >= 0),
  -- json, not jsonb: stored as the text sent, which is what a round's ~40 MB of bodies needs to be
  -- written fast (jsonb parses and rebuilds every body, about twice as slow); readers parse it in JS.
  distributions  json CHECK (distributions IS NULL OR status = 'SUCCESS'),
  performed_at   timestamptz NOT NULL,
  resolvable_at  timestamptz NOT NULL CHECK (resolvable_at >= performed_at),
  -- The predict cycle's scheduled time: a cycle predicts each (model, asset, horizon, step) once.
  scheduled_at   timestamptz,
  -- Mirrors scores.scored_at so "what is left to score" is a small partial index, not an anti-join.
  scored_at      timestamptz,
  CONSTRAINT predictions_call_key UNIQUE (model_id, asset, horizon, step, performed_at),
  CONSTRAINT predictions_cycle_key UNIQUE (model_id, asset, horizon, step, scheduled_at)
);
-- lz4 compresses density JSON about as well as the default pglz at several times the speed. A server
-- built without lz4 keeps its default.
DO $$
BEGIN
  EXECUTE 'ALTER TABLE predictions ALTER COLUMN distributions SET COMPRESSION lz4';
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'this server has no lz4: predictions.distributions keeps the default compression';
END
$$;
-- Score pass: unscored predictions whose resolvable_at is covered by the asset's prices.
CREATE INDEX predictions_unscored_idx ON predictions (asset, resolvable_at) WHERE scored_at IS NULL;
-- Rolling windows per (model, asset, horizon, step) over resolvable_at.
CREATE INDEX predictions_window_idx ON predictions (model_id, asset, horizon, step, resolvable_at);
-- Report queries by model and time range.
CREATE INDEX predictions_model_time_idx ON predictions (model_id, performed_at);
-- Retention deletes by age.
CREATE INDEX predictions_resolvable_idx ON predictions (resolvable_at);
