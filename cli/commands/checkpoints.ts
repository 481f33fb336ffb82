// `coordinator checkpoints list|show ID|create-now`: the emission checkpoints, for operators. list and
// show read the database; create-now runs the checkpoint workflow for a period ending now (the id names
// that instant, as the schedule's runs do) and waits for it. Each prints the run's Web UI link.
import type { Command } from 'commander';
import { type CommonQueryMethods, sql } from 'slonik';
import { z } from 'zod';
import { checkpointById } from '../../gateway/queries/checkpoints.js';
import { databaseUrl, readSettings, type Settings, temporalOptions } from '../../lib/config/index.js';
import { createDatabasePool } from '../../lib/db/index.js';
import { connectClient } from '../../lib/temporal/index.js';
import type { EmissionCheckpointInput, EmissionCheckpointResult } from '../../workflows/index.js';
import { checkpointWorkflowId } from '../schedules.js';
import { checkpointSettings } from '../settings.js';
import { startWorkflow } from '../workflows.js';
import { webUiLink } from './backfill.js';

const listed = z.object({
  id: z.string(),
  periodStart: z.string(),
  periodEnd: z.string(),
  status: z.string(),
  models: z.number(),
  cycles: z.number(),
  merkleRoot: z.string().nullable(),
  txHash: z.string().nullable(),
});

async function withDatabase<T>(settings: Settings, work: (db: CommonQueryMethods) => Promise<T>): Promise<T> {
  const pool = await createDatabasePool({ connectionString: databaseUrl(settings), maximumPoolSize: 1 });
  try {
    return await work(pool);
  } finally {
    await pool.end();
  }
}

const uiBase = (settings: Settings, ui?: string) => ui ?? `http://127.0.0.1:${settings.TEMPORAL_UI_PORT}`;
const runLink = (settings: Settings, ui: string | undefined, periodEnd: string) =>
  webUiLink(uiBase(settings, ui), settings.TEMPORAL_NAMESPACE, checkpointWorkflowId(new Date(periodEnd)));

async function list(options: { limit: string; ui?: string }): Promise<void> {
  const settings = readSettings();
  const limit = Number(options.limit);
  if (!(Number.isInteger(limit) && limit > 0))
    throw new Error(`--limit must be a positive whole number, got "${options.limit}"`);
  const rows = await withDatabase(settings, (db) =>
    db.any(sql.type(listed)`
      SELECT c.id, to_char(c.period_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "periodStart",
             to_char(c.period_end AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "periodEnd", c.status,
             (SELECT count(*) FROM checkpoint_entries e WHERE e.checkpoint_id = c.id)::int AS models,
             c.cycle_count AS cycles, c.merkle_root AS "merkleRoot", c.tx_hash AS "txHash"
      FROM checkpoints c ORDER BY c.period_end DESC LIMIT ${limit}
    `),
  );
  if (rows.length === 0) {
    console.log('no checkpoint yet (the first is made at the end of the first period, or by `checkpoints create-now`)');
    return;
  }
  for (const row of rows) {
    console.log(
      `${row.id}  ${row.status.padEnd(9)}  ${row.periodStart} .. ${row.periodEnd}  ${row.models} models, ` +
        `${row.cycles} Merkle cycles, root ${row.merkleRoot?.slice(0, 16) ?? 'none'}${row.txHash ? `, tx ${row.txHash}` : ''}`,
    );
    console.log(`  ${runLink(settings, options.ui, row.periodEnd)}`);
  }
}

async function show(id: string, options: { ui?: string }): Promise<void> {
  const settings = readSettings();
  const body = await withDatabase(settings, (db) => checkpointById(db, id));
  if (body === null) {
    console.error(`no checkpoint "${id}" (see \`coordinator checkpoints list\`)`);
    process.exitCode = 2;
    return;
  }
  const checkpoint = JSON.parse(body) as { period_end: string };
  console.log(JSON.stringify(checkpoint, null, 2));
  console.log(`workflow run: ${runLink(settings, options.ui, checkpoint.period_end)}`);
}

async function createNow(options: { ui?: string }): Promise<void> {
  const settings = readSettings();
  const periodEnd = new Date(Math.floor(Date.now() / 1000) * 1000);
  const workflowId = checkpointWorkflowId(periodEnd);
  const input: EmissionCheckpointInput = { ...checkpointSettings(settings), periodEnd: periodEnd.toISOString() };
  const temporal = temporalOptions(settings);
  const client = await connectClient(temporal).catch((error: unknown) => {
    throw new Error(`cannot reach Temporal at ${temporal.address}: ${(error as Error).message}`);
  });
  try {
    const handle = await startWorkflow(client, 'emissionCheckpoint', { workflowId, args: [input] });
    console.log(`workflow ${workflowId}`);
    console.log(webUiLink(uiBase(settings, options.ui), temporal.namespace, workflowId));
    const result = await handle.result();
    const words: Record<EmissionCheckpointResult['outcome'], string> = {
      created: `checkpoint ${result.checkpoint?.id} made: ${result.checkpoint?.models} models, ${result.checkpoint?.cycles} Merkle cycles`,
      existing: `checkpoint ${result.checkpoint?.id} already existed; unchanged`,
      covered: 'nothing to do: a checkpoint already covers this instant',
      'nothing-ranked': 'no checkpoint: no leaderboard was published since the last one',
    };
    console.log(words[result.outcome]);
  } finally {
    await client.connection.close();
  }
}

export function register(program: Command): void {
  const checkpoints = program
    .command('checkpoints')
    .description('emission checkpoints: what each period pays the models, for the platform to settle');
  const fail = (what: string) => (error: unknown) => {
    console.error(`checkpoints ${what} failed: ${(error as Error).message}`);
    process.exitCode = /must be/.test((error as Error).message) ? 2 : 1;
  };
  checkpoints
    .command('list')
    .description('the newest checkpoints: period, status, models, Merkle root, and the Web UI link of each run')
    .option('--limit <n>', 'how many', '20')
    .option('--ui <url>', 'Temporal Web UI base URL (default: http://127.0.0.1:TEMPORAL_UI_PORT)')
    .action((options: { limit: string; ui?: string }) => list(options).catch(fail('list')));
  checkpoints
    .command('show <id>')
    .description('one checkpoint as the report API serves it (ranking, emission, status), and its run’s Web UI link')
    .option('--ui <url>', 'Temporal Web UI base URL')
    .action((id: string, options: { ui?: string }) => show(id, options).catch(fail('show')));
  checkpoints
    .command('create-now')
    .description('make the checkpoint of the period ending now (from the last checkpoint’s end), and wait for it')
    .option('--ui <url>', 'Temporal Web UI base URL')
    .action((options: { ui?: string }) => createNow(options).catch(fail('create-now')));
}
