import { type CommonQueryMethods, sql } from 'slonik';
import { z } from 'zod';
import { lastPerKey, nonEmpty, parseRows, seconds } from './validate.js';

const deploymentInput = z.object({
  deploymentId: nonEmpty,
  modelId: nonEmpty,
  ip: z.string().nullish(),
  port: z.number().int().min(0).max(65535).nullish(),
  /** The orchestrator's word for it, e.g. RUNNING, STOPPED. */
  state: nonEmpty,
});
export type DeploymentInput = z.input<typeof deploymentInput>;

const deploymentRecord = z.object({
  deploymentId: z.string(),
  modelId: z.string(),
  state: z.string(),
  /** Unix seconds, or null while the deployment still needs its full-history tick. */
  fullHistorySentAt: z.number().nullable(),
});
export type DeploymentRecord = z.infer<typeof deploymentRecord>;

/**
 * Records what discovery reports about deployments (their models must already exist: upsertModels
 * first). New ones start without history; known ones get their address, state and last seen refreshed.
 * Returns every given deployment's current record, in the order given, so the caller sees which still
 * need full history.
 */
export async function recordDeployments(
  db: CommonQueryMethods,
  deployments: readonly DeploymentInput[],
  seenAt?: number,
): Promise<DeploymentRecord[]> {
  const rows = lastPerKey(parseRows('recordDeployments', deploymentInput, deployments), (row) => row.deploymentId);
  if (rows.length === 0) return [];
  const seen = seenAt === undefined ? sql.fragment`now()` : sql.fragment`to_timestamp(${seconds(seenAt, 'seenAt')})`;
  const records = await db.any(sql.type(deploymentRecord)`
    INSERT INTO deployments AS d (deployment_id, model_id, ip, port, state, first_seen_at, last_seen_at)
    SELECT deployment_id, model_id, ip, port, state, ${seen}, ${seen}
    FROM ${sql.unnest(
      rows.map((row) => [row.deploymentId, row.modelId, row.ip ?? null, row.port ?? null, row.state]),
      ['text', 'text', 'text', 'int4', 'text'],
    )} AS input (deployment_id, model_id, ip, port, state)
    ON CONFLICT (deployment_id) DO UPDATE SET
      model_id = excluded.model_id,
      ip = excluded.ip,
      port = excluded.port,
      state = excluded.state,
      last_seen_at = greatest(d.last_seen_at, excluded.last_seen_at)
    RETURNING deployment_id AS "deploymentId", model_id AS "modelId", state,
              extract(epoch FROM full_history_sent_at)::float8 AS "fullHistorySentAt"
  `);
  // RETURNING order is not guaranteed: give the records back in the order they were asked.
  const position = new Map(rows.map((row, index) => [row.deploymentId, index]));
  return [...records].sort((a, b) => position.get(a.deploymentId)! - position.get(b.deploymentId)!);
}

/** Records that these deployments received their full-history tick at `at` (unix seconds). */
export async function markFullHistorySent(
  db: CommonQueryMethods,
  deploymentIds: readonly string[],
  at: number,
): Promise<number> {
  if (deploymentIds.length === 0) return 0;
  const result = await db.query(sql.unsafe`
    UPDATE deployments SET full_history_sent_at = to_timestamp(${seconds(at, 'at')})
    WHERE deployment_id = ANY(${sql.array(deploymentIds, 'text')})
  `);
  return result.rowCount;
}
