-- How far each model deployment has been fed, per asset: the newest price time it has accepted in a tick.
-- It lives here, not in a worker's memory, so that with several model-calls workers a deployment gets its
-- full history once, whichever worker calls it. A deployment is fed (may predict) once
-- deployments.full_history_sent_at is set; these rows say from where its next tick starts.
CREATE TABLE feed_marks (
  deployment_id text NOT NULL REFERENCES deployments (deployment_id) ON DELETE CASCADE,
  asset         text NOT NULL,
  fed_until     timestamptz NOT NULL,
  PRIMARY KEY (deployment_id, asset)
);
