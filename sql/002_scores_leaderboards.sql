-- Scoring results, rolling model scores and published leaderboards.

-- One row per scored prediction; rescoring replaces it (INSERT ... ON CONFLICT (prediction_id) DO UPDATE).
CREATE TABLE scores (
  prediction_id bigint PRIMARY KEY REFERENCES predictions (id) ON DELETE CASCADE,
  value         double precision NOT NULL,
  success       boolean NOT NULL,
  failed_reason text,
  scorer        text NOT NULL,
  scored_at     timestamptz NOT NULL DEFAULT now()
);

-- A model's scores at one instant of a leaderboard pass. `groups` holds the per-(asset, horizon, step)
-- windows as a JSON array of {asset, horizon, step, recent, steady, anchor}: one row per model per
-- pass instead of one per group keeps the table an eighth of the size.
CREATE TABLE model_score_snapshots (
  model_id     text NOT NULL REFERENCES models (model_id) ON DELETE CASCADE,
  as_of        timestamptz NOT NULL,
  score_recent double precision,
  score_steady double precision,
  score_anchor double precision,
  groups       jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(groups) = 'array'),
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (model_id, as_of)
);
-- Report queries over all models for a time range, and retention.
CREATE INDEX model_score_snapshots_as_of_idx ON model_score_snapshots (as_of);

-- One leaderboard per pass; `as_of` is unique so a re-run pass replaces rather than adds.
CREATE TABLE leaderboards (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  as_of      timestamptz NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- The latest leaderboard is the one with the newest as_of (the UNIQUE index serves it); created_at
-- serves "published when" and retention.
CREATE INDEX leaderboards_created_idx ON leaderboards (created_at);

CREATE TABLE leaderboard_entries (
  leaderboard_id bigint NOT NULL REFERENCES leaderboards (id) ON DELETE CASCADE,
  rank           integer NOT NULL CHECK (rank >= 1),
  model_id       text NOT NULL REFERENCES models (model_id) ON DELETE CASCADE,
  score_recent   double precision,
  score_steady   double precision,
  score_anchor   double precision,
  PRIMARY KEY (leaderboard_id, rank),
  UNIQUE (leaderboard_id, model_id)
);
