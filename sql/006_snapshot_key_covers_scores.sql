-- The primary key of model_score_snapshots carries the three overall scores, for index-only reads.
--
-- /reports/models/global reads, per model, every snapshot in a time range (2,017 for 7 days of 5-minute
-- passes) and only its key and overall scores. A pass writes every model's snapshot together, so one
-- model's snapshots sit one per heap page: the read touched a heap page per row, 16 MB for 7 days, which
-- comes from the OS cache or the disk once the table (about 1 KB a row with `groups`) outgrows
-- shared_buffers. With the scores in the key's index (INCLUDE) the same read is an index-only scan of a
-- few dozen pages.
--
-- The key's own index is replaced rather than a covering index added beside it: a pass's 1,000 inserts
-- then update two indexes as before, not three. Measured on 2 million snapshots, one pass's upsert took
-- 15.9 ms before, 16.7 ms with this key (within the noise) and 21.5 ms with a third index. Scores in an
-- index make an update that changes them non-HOT, which only a re-run pass with different values does.
-- Building the index locks out writers (the leaderboard refresh) for its duration: about 2 s at 2 million
-- snapshots.
CREATE UNIQUE INDEX model_score_snapshots_key_scores
  ON model_score_snapshots (model_id, as_of) INCLUDE (score_recent, score_steady, score_anchor);
ALTER TABLE model_score_snapshots
  DROP CONSTRAINT model_score_snapshots_pkey,
  ADD CONSTRAINT model_score_snapshots_pkey PRIMARY KEY USING INDEX model_score_snapshots_key_scores;

-- An index-only scan still reads the heap for pages not yet marked all-visible, i.e. written since the last
-- vacuum. By default an insert-only table is vacuumed after inserts of 20 % of its size: about two days of
-- passes at 10 days of retention, over a quarter of a 7-day report. Vacuuming after every 10,000 inserts (ten
-- passes at 1,000 models) keeps that to the newest few passes; each such vacuum visits little more than the
-- pages written since the previous one.
ALTER TABLE model_score_snapshots SET (autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 10000);
