// `coordinator backfill --from ISO --to ISO [--rescore]`: starts the backfillScores workflow (the
// workers do the work), follows its `progress` query with a progress bar on stderr, and prints its id,
// its Web UI link and, at the end, what it did. Bad input: a message and exit code 2.
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Command } from 'commander';
import { readSettings, temporalOptions } from '../../lib/config/index.js';
import { connectClient } from '../../lib/temporal/index.js';
import type { BackfillProgress, BackfillScoresInput } from '../../workflows/index.js';
import { startWorkflow } from '../workflows.js';

/** Unix seconds from an ISO-8601 time or date (UTC when it names no offset); throws a clear message. */
export function parseInstant(value: string, flag: string): number {
  const trimmed = value.trim();
  const full = /^\d{4}-\d\d-\d\d$/.test(trimmed)
    ? `${trimmed}T00:00:00Z`
    : /([zZ]|[+-]\d\d:?\d\d)$/.test(trimmed)
      ? trimmed
      : `${trimmed}Z`;
  const ms = Date.parse(full);
  if (!Number.isFinite(ms)) throw new Error(`${flag} "${value}" is not an ISO-8601 time (e.g. 2025-06-01T00:00:00Z)`);
  return ms / 1000;
}

function positive(value: string, flag: string): number {
  const number = Number(value);
  if (!(Number.isFinite(number) && number > 0)) throw new Error(`${flag} must be a positive number, got "${value}"`);
  return number;
}

/** The workflow id: the range (and the mode) it covers, so the same backfill started twice is one workflow. */
export function backfillWorkflowId(from: number, to: number, rescore: boolean): string {
  const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
  return `backfill-${iso(from)}-${iso(to)}${rescore ? '-rescore' : ''}`;
}

export function webUiLink(uiBase: string, namespace: string, workflowId: string): string {
  return `${uiBase.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** One line: `[########------------]  40% scoring: 2/5 slices scored, ...`. */
export function progressLine(progress: BackfillProgress, width = 24): string {
  const fraction = Math.min(1, Math.max(0, progress.fraction));
  const filled = Math.round(fraction * width);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  return (
    `${bar} ${percent} ${progress.phase}: ${progress.slicesScored}/${progress.slices} slices scored, ` +
    `${progress.slicesRanked}/${progress.slices} ranked, ${progress.predictionsScored} predictions scored, ` +
    `${progress.scoresWritten} scores written, ${progress.leaderboards} leaderboards`
  );
}

interface BackfillOptions {
  from: string;
  to: string;
  rescore?: boolean;
  applyPriceCorrections?: boolean;
  sliceHours: string;
  leaderboardEveryMinutes: string;
  game?: string;
  scorer?: string;
  temporalAddress?: string;
  namespace?: string;
  ui?: string;
  detach?: boolean;
  pollMs: string;
}

/** Polls the progress query until the workflow ends; redraws one line on a terminal, else prints changes. */
async function follow(handle: WorkflowHandle, pollMs: number): Promise<BackfillProgress> {
  const tty = process.stderr.isTTY === true;
  const result = handle.result() as Promise<BackfillProgress>;
  let finished = false;
  const settled = result.then(
    () => {
      finished = true;
    },
    () => {
      finished = true;
    },
  );
  let last = '';
  const show = (progress: BackfillProgress) => {
    const line = progressLine(progress);
    if (line !== last) process.stderr.write(tty ? `\r${line}` : `${line}\n`);
    last = line;
  };
  while (!finished) {
    try {
      show(await handle.query<BackfillProgress>('progress'));
    } catch {
      // The first workflow task may not have run yet, so the query is not there: ask again.
    }
    await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, pollMs))]);
  }
  const done = await result;
  show(done);
  if (tty) process.stderr.write('\n');
  return done;
}

async function run(options: BackfillOptions): Promise<void> {
  const settings = readSettings();
  const from = parseInstant(options.from, '--from');
  const to = parseInstant(options.to, '--to');
  if (!(to > from)) throw new Error(`--to (${options.to}) must be after --from (${options.from})`);
  const applyPriceCorrections = options.applyPriceCorrections === true;
  const rescore = options.rescore === true || applyPriceCorrections;
  const input: BackfillScoresInput = {
    from: new Date(from * 1000).toISOString(),
    to: new Date(to * 1000).toISOString(),
    rescore,
    ...(applyPriceCorrections ? { applyPriceCorrections } : {}),
    sliceSeconds: Math.round(positive(options.sliceHours, '--slice-hours') * 3600),
    leaderboardEverySeconds: Math.round(positive(options.leaderboardEveryMinutes, '--leaderboard-every-minutes') * 60),
    game: options.game ?? settings.GAME,
    ...(options.scorer ? { scorer: options.scorer } : {}),
  };
  const temporal = {
    ...temporalOptions(settings),
    ...(options.temporalAddress ? { address: options.temporalAddress } : {}),
    ...(options.namespace ? { namespace: options.namespace } : {}),
  };
  const workflowId = `${backfillWorkflowId(from, to, rescore)}${applyPriceCorrections ? '-corrected' : ''}`;
  let client: Client;
  try {
    client = await connectClient(temporal);
  } catch (error) {
    throw new Error(`cannot reach Temporal at ${temporal.address}: ${(error as Error).message}`);
  }
  try {
    // A backfill of the same range already running is followed rather than started twice.
    const handle = await startWorkflow(client, 'backfillScores', {
      workflowId,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      // Every run is bounded: a backfill stuck on a repeating failure ends where an operator sees it.
      workflowRunTimeout: '24 hours',
    });
    console.log(`workflow ${workflowId}`);
    console.log(
      webUiLink(options.ui ?? `http://127.0.0.1:${settings.TEMPORAL_UI_PORT}`, temporal.namespace, workflowId),
    );
    if (options.detach) return;
    const done = await follow(handle, positive(options.pollMs, '--poll-ms'));
    console.log(
      `done: ${done.pricesCorrected} prices corrected, ${done.slices} slices, ${done.predictionsScored} predictions scored, ${done.scoresWritten} scores written, ` +
        `${done.leaderboards} leaderboards recomputed`,
    );
  } finally {
    await client.connection.close();
  }
}

export function register(program: Command): void {
  program
    .command('backfill')
    .description(
      'score a past range of predictions again and recompute its leaderboard history (a Temporal workflow run by the workers)',
    )
    .requiredOption('--from <iso>', 'first resolvable_at of the range (ISO-8601, UTC when no offset is given)')
    .requiredOption('--to <iso>', 'last resolvable_at of the range (included)')
    .option(
      '--rescore',
      'also rescore predictions that have a score (after a scoring change); default: only unscored ones',
    )
    .option(
      '--apply-price-corrections',
      'first apply the pending price corrections of the prices the range uses (shown on /metrics), then rescore it',
    )
    .option('--slice-hours <hours>', 'one child workflow per slice of this many hours', '24')
    .option('--leaderboard-every-minutes <minutes>', 'recompute a leaderboard every this many minutes', '60')
    .option('--game <id>', 'game definition (default: the GAME setting)')
    .option('--scorer <name>', "scorer of the game (default: the game's)")
    .option('--temporal-address <host:port>', 'Temporal frontend (default: the TEMPORAL_ADDRESS setting)')
    .option('--namespace <name>', 'Temporal namespace (default: the TEMPORAL_NAMESPACE setting)')
    .option('--ui <url>', 'Temporal Web UI base URL for the printed link (default: http://127.0.0.1:TEMPORAL_UI_PORT)')
    .option('--detach', 'start the workflow and return without following it')
    .option('--poll-ms <ms>', 'how often to ask for progress', '1000')
    .action(async (options: BackfillOptions) => {
      try {
        await run(options);
      } catch (error) {
        const message = (error as Error).message;
        console.error(`backfill failed: ${message}${causeOf(error)}`);
        process.exitCode = /must be|is not an ISO/.test(message) ? 2 : 1;
      }
    });
}

/** The root cause of a workflow failure (the part that names the problem). */
function causeOf(error: unknown): string {
  let cause = (error as { cause?: unknown }).cause;
  let deepest: string | undefined;
  while (cause instanceof Error) {
    deepest = cause.message;
    cause = (cause as { cause?: unknown }).cause;
  }
  return deepest ? `: ${deepest}` : '';
}
