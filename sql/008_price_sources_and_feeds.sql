-- Trustworthy prices: every stored price says where it came from, and what the ingestion saw but did
-- not store (jumps held back, later values of a stored minute) and the state of each asset's feed are
-- kept where the gateway can report them.

-- Rows stored before this migration did not record their source.
ALTER TABLE prices ADD COLUMN source text NOT NULL DEFAULT 'unrecorded';
ALTER TABLE prices ALTER COLUMN source DROP DEFAULT;
ALTER TABLE prices ADD COLUMN ingested_at timestamptz NOT NULL DEFAULT now();

-- A point that jumped more than the asset's bound from its neighbours: 'held' until a second source
-- confirms it or the next point agrees (then it is stored and the row deleted), 'rejected' when the
-- next point went back (a bad tick). One row per (asset, minute, source).
CREATE TABLE price_holds (
  asset   text NOT NULL,
  ts      timestamptz NOT NULL,
  source  text NOT NULL,
  price   double precision NOT NULL,
  state   text NOT NULL CHECK (state IN ('held', 'rejected')),
  reason  text NOT NULL,
  seen_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (asset, ts, source)
);

-- A source answering another value for a minute already stored. Never applied silently: an operator
-- applies them with a backfill (applyPriceCorrections), which rescores the predictions they touch.
CREATE TABLE price_corrections (
  asset           text NOT NULL,
  ts              timestamptz NOT NULL,
  source          text NOT NULL,
  stored_price    double precision NOT NULL,
  corrected_price double precision NOT NULL CHECK (corrected_price > 0 AND corrected_price < 'Infinity'),
  seen_at         timestamptz NOT NULL DEFAULT now(),
  applied_at      timestamptz,
  PRIMARY KEY (asset, ts, source, corrected_price)
);
CREATE INDEX price_corrections_pending_idx ON price_corrections (asset, ts) WHERE applied_at IS NULL;

-- One row per asset, written by each ingestion run: what /healthz, /metrics and /reports/feeds show.
CREATE TABLE price_feeds (
  asset                text PRIMARY KEY,
  -- The newest stored (settled) point and when it last moved.
  watermark_ts         timestamptz,
  watermark_updated_at timestamptz,
  last_run_at          timestamptz NOT NULL,
  -- The last run whose source answered, and the last failure (cleared by the next success).
  last_success_at      timestamptz,
  last_error           text,
  last_error_at        timestamptz,
  -- Largest |ln(a / b)| between the two configured sources over the last run's common minutes.
  divergence           double precision,
  divergence_sources   text,
  divergence_at        timestamptz
);

-- /reports/feeds/tail: the newest points of every asset, newest first.
CREATE INDEX prices_ts_idx ON prices (ts DESC);
