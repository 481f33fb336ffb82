-- Claim-check store for large Temporal payloads: the codec writes the bytes here and leaves only the
-- key in workflow history. The codec picks the key (a content hash makes a repeated write a no-op).
CREATE TABLE payloads (
  key        text PRIMARY KEY,
  bytes      bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payloads_created_idx ON payloads (created_at);
