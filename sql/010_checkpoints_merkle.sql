-- Emission checkpoints and the Merkle chain of snapshots behind them (lib/emission, docs/emission.md).
--
-- Every score pass appends a Merkle cycle: its models' snapshots as leaves (sorted by model id), their
-- root, and that root chained after the previous cycle's. A checkpoint takes every cycle appended since
-- the previous checkpoint up to its period end, builds a tree over their chained roots, and ranks the
-- models by the game's leaderboard at its period end with reward shares in frac64 units (1e9 = 100 %).
-- Cycles and snapshots are never rewritten once stored: later cycles and checkpoints commit to them.

CREATE TABLE checkpoints (
  id                text PRIMARY KEY,                 -- CKP_%Y%m%d_%H%M%S of period_end
  period_start      timestamptz NOT NULL,
  period_end        timestamptz NOT NULL UNIQUE,      -- a period is never checkpointed twice
  status            text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SUBMITTED', 'CLAIMABLE', 'PAID')),
  -- The platform's EmissionCheckpoint {crunch, cruncher_rewards, compute_provider_rewards, data_provider_rewards}.
  emission          jsonb NOT NULL,
  -- The leaderboard the ranking was read from (the newest at or before period_end).
  leaderboard_as_of timestamptz NOT NULL,
  -- Root of the tree over the chained roots of the checkpoint's cycles; null when it has none.
  merkle_root       text,
  cycle_count       integer NOT NULL CHECK (cycle_count >= 0),
  snapshot_count    integer NOT NULL CHECK (snapshot_count >= 0),
  created_at        timestamptz NOT NULL DEFAULT now(),
  tx_hash           text,
  submitted_at      timestamptz,
  CHECK (period_start < period_end),
  CHECK ((merkle_root IS NULL) = (cycle_count = 0))
);
CREATE INDEX checkpoints_status_idx ON checkpoints (status, period_end);

-- The ranking a checkpoint pays, one row per ranked model; rank - 1 is the platform's cruncher_index.
-- Names are copied: a checkpoint says what was paid to whom even after a model is gone.
CREATE TABLE checkpoint_entries (
  checkpoint_id    text NOT NULL REFERENCES checkpoints (id) ON DELETE CASCADE,
  rank             integer NOT NULL CHECK (rank >= 1),
  model_id         text NOT NULL,
  model_name       text,
  cruncher_name    text,
  -- Over the snapshots of the checkpoint's cycles.
  prediction_count integer NOT NULL CHECK (prediction_count >= 0),
  snapshot_count   integer NOT NULL CHECK (snapshot_count >= 0),
  -- The model's scores on that leaderboard: {score_recent, score_steady, score_anchor}.
  result_summary   jsonb NOT NULL,
  reward_pct       bigint NOT NULL CHECK (reward_pct >= 0),
  PRIMARY KEY (checkpoint_id, rank),
  UNIQUE (checkpoint_id, model_id)
);

-- One cycle per score pass that ranked at least one model, chained: previous_cycle_id is unique, so the
-- chain cannot fork, and only one cycle may start it.
CREATE TABLE merkle_cycles (
  id                  text PRIMARY KEY,               -- CYC_%Y%m%d_%H%M%S_%f of cycle_at
  cycle_at            timestamptz NOT NULL UNIQUE,    -- the score pass's instant
  previous_cycle_id   text UNIQUE REFERENCES merkle_cycles (id),
  previous_cycle_root text,
  snapshots_root      text NOT NULL,
  chained_root        text NOT NULL,
  snapshot_count      integer NOT NULL CHECK (snapshot_count >= 1),
  -- Set, once, by the checkpoint that covers the cycle.
  checkpoint_id       text REFERENCES checkpoints (id),
  created_at          timestamptz NOT NULL DEFAULT now(),
  CHECK ((previous_cycle_id IS NULL) = (previous_cycle_root IS NULL))
);
CREATE UNIQUE INDEX merkle_cycles_single_start ON merkle_cycles ((true)) WHERE previous_cycle_id IS NULL;
-- "Cycles not yet checkpointed, in time order" and "the cycles of a checkpoint".
CREATE INDEX merkle_cycles_checkpoint_idx ON merkle_cycles (checkpoint_id, cycle_at);

-- The leaves: a model's snapshot as hashed into its cycle. `result_summary` is `json`, not `jsonb`, so the
-- text that was hashed (Python's float repr: 1.0, 1e-05) is served back byte for byte and a verifier
-- re-reading it with Python's json module gets the same hash. No foreign key to models: a proof must
-- outlive the model.
CREATE TABLE merkle_snapshots (
  id               text PRIMARY KEY,                  -- SNAP_<cycle stamp>_<leaf index>
  cycle_id         text NOT NULL REFERENCES merkle_cycles (id) ON DELETE CASCADE,
  leaf_index       integer NOT NULL CHECK (leaf_index >= 0),
  model_id         text NOT NULL,
  period_start     timestamptz NOT NULL,
  period_end       timestamptz NOT NULL,
  prediction_count integer NOT NULL CHECK (prediction_count >= 0),
  result_summary   json NOT NULL,
  content_hash     text NOT NULL,
  UNIQUE (cycle_id, leaf_index),
  UNIQUE (cycle_id, model_id)
);
CREATE INDEX merkle_snapshots_model_idx ON merkle_snapshots (model_id, period_end);
CREATE INDEX merkle_snapshots_period_end_idx ON merkle_snapshots (period_end);

-- The platform's settlement calls, the only writes the report gateway makes: SECURITY DEFINER, so a gateway
-- role that may only read (sql/roles/gateway-reader.sh) can make exactly these moves and no other write.
-- Each returns 'changed', 'unchanged', 'not-found' or 'conflict'.

-- PENDING -> SUBMITTED with the transaction's hash. The same hash again changes nothing (the platform may
-- repeat a call whose answer it lost); another hash, or a checkpoint past PENDING, is a conflict.
CREATE FUNCTION checkpoint_confirm(checkpoint text, hash text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  found_status text;
  found_hash text;
BEGIN
  SELECT status, tx_hash INTO found_status, found_hash FROM checkpoints WHERE id = checkpoint FOR UPDATE;
  IF NOT FOUND THEN RETURN 'not-found'; END IF;
  IF found_hash = hash THEN RETURN 'unchanged'; END IF;
  IF found_status <> 'PENDING' THEN RETURN 'conflict'; END IF;
  UPDATE checkpoints SET status = 'SUBMITTED', tx_hash = hash, submitted_at = now() WHERE id = checkpoint;
  RETURN 'changed';
END
$$;

-- One step along PENDING -> SUBMITTED -> CLAIMABLE -> PAID; any other move (the same state included) is a conflict.
CREATE FUNCTION checkpoint_move(checkpoint text, target text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  found_status text;
BEGIN
  SELECT status INTO found_status FROM checkpoints WHERE id = checkpoint FOR UPDATE;
  IF NOT FOUND THEN RETURN 'not-found'; END IF;
  IF (found_status, target) NOT IN (('PENDING', 'SUBMITTED'), ('SUBMITTED', 'CLAIMABLE'), ('CLAIMABLE', 'PAID')) THEN
    RETURN 'conflict';
  END IF;
  UPDATE checkpoints SET status = target WHERE id = checkpoint;
  RETURN 'changed';
END
$$;
