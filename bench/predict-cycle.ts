// Predict cycle: one whole cycle (new prices, tick, predict, store) with N light model endpoints that
// answer a 24 h Condor prediction (288 densities), as a Temporal workflow with its three workers in
// this process, against a baseline making the same library calls from plain Node, in the same run:
// warm-up cycle each (full-history ticks), then alternating timed cycles, medians. Also the workflow
// history's size and largest payload, and insertPredictions alone on a cycle's rows.
//
//   npm run bench -- predict-cycle [--sizes 10,100,1000] [--reps 5]
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { executeWorkflow } from '../cli/workflows.js';
import { PriceFeed } from '../lib/cycle/index.js';
import { condor } from '../lib/game/index.js';
import { createLogger, type Logger } from '../lib/log/index.js';
import { SyntheticSource } from '../lib/market-data/index.js';
import { createTemporalTestEnv } from '../test/support/temporal.js';
import { createCoordinatorWorker } from '../workers/coordinator.js';
import { createModelCallsWorker } from '../workers/model-calls.js';
import { createPostgresWorker } from '../workers/postgres.js';
import { baselineCycle, storeNewPrices } from './predict-cycle/baseline.js';
import { type BenchDatabase, createBenchDatabase } from './predict-cycle/database.js';
import { BenchFleet } from './predict-cycle/fleet.js';
import { type HistoryFigures, historyFigures } from './predict-cycle/history.js';
import { densityAnswerJson } from './predict-cycle/payload.js';
import { createPreviousTable, timePreviousInsert } from './predict-cycle/previous-insert.js';
import { storedBodyBytes, timeInsert } from './predict-cycle/storage.js';
import { median, round1 } from './support/figures.js';

interface Options {
  sizes: number[];
  reps: number;
}

const PERIOD_SEC = 60;
/** What crunch-model-runner answers when a tracker's tick raises: its message, here a pandas-like one. */
const TICK_ERROR =
  'The model raised an exception: could not build the price frame: arrays must all be same length ' +
  '(got 43200 and 43199); check the tick data for gaps before calling predict, or fill them with the ' +
  'previous close as the documentation of the tracker base class describes';
const CALL_TIMEOUT_MS = 60_000;
const progress = (message: string) => process.stderr.write(`[predict-cycle] ${message}\n`);

function parseOptions(args: string[]): Options {
  const options: Options = { sizes: [10, 100, 1000], reps: 5 };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--sizes') options.sizes = String(args[++i]).split(',').map(Number);
    else if (arg === '--reps') options.reps = Number(args[++i]);
    else throw new Error(`unknown argument ${arg}; use --sizes 10,100,1000 --reps 5`);
  }
  if (
    options.sizes.some((n) => !Number.isInteger(n) || n <= 0) ||
    !Number.isInteger(options.reps) ||
    options.reps < 1
  ) {
    throw new Error('--sizes needs positive integers and --reps a whole number >= 1');
  }
  return options;
}

function checkFileLimit(sizes: number[]): void {
  const needed = Math.max(...sizes) * 5 + 200;
  const limit = Number(execFileSync('sh', ['-c', 'ulimit -n']).toString().trim());
  if (Number.isFinite(limit) && limit < needed) {
    throw new Error(`ulimit -n is ${limit}; ${Math.max(...sizes)} endpoints need about ${needed} file descriptors`);
  }
}

interface SizeContext {
  size: number;
  env: TestWorkflowEnvironment;
  database: BenchDatabase;
  source: SyntheticSource;
  fleet: BenchFleet;
  feed: PriceFeed;
  logger: Logger;
}

interface Timed {
  ms: number;
  /** CPU of this process (every thread: workers, SDK core, client, GC) during the cycle. */
  cpuMs: number;
}

const cpuMsSince = (mark: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(mark);
  return (used.user + used.system) / 1000;
};

async function workflowCycle(context: SizeContext, untilSec: number): Promise<Timed & { workflowId: string }> {
  const workflowId = `bench-predict-cycle-${context.size}-${untilSec}`;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await executeWorkflow(context.env.client, 'predictCycle', {
    workflowId,
    args: [{ scheduledAt: new Date(untilSec * 1000).toISOString(), periodSec: PERIOD_SEC, timeoutMs: CALL_TIMEOUT_MS }],
  });
  const ms = performance.now() - started;
  const cpuMs = cpuMsSince(cpu);
  if (result.predictionsStored !== context.size || result.byStatus.SUCCESS !== context.size) {
    throw new Error(`workflow cycle stored ${result.predictionsStored} of ${context.size}: ${JSON.stringify(result)}`);
  }
  return { ms, cpuMs, workflowId };
}

async function plainCycle(context: SizeContext, untilSec: number): Promise<Timed> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const summary = await baselineCycle(
    {
      db: context.database.pool,
      client: context.fleet.client,
      feed: context.feed,
      game: condor,
      logger: context.logger,
    },
    { untilSec, periodSec: PERIOD_SEC, timeoutMs: CALL_TIMEOUT_MS },
  );
  const ms = performance.now() - started;
  const cpuMs = cpuMsSince(cpu);
  if (summary.stored !== context.size || summary.byStatus.SUCCESS !== context.size) {
    throw new Error(`baseline cycle stored ${summary.stored} of ${context.size}: ${JSON.stringify(summary)}`);
  }
  return { ms, cpuMs };
}

export default async function predictCycle(args: string[]): Promise<Record<string, unknown>> {
  const options = parseOptions(args);
  checkFileLimit(options.sizes);
  // Per-model and per-round info lines would drown the progress; warnings and errors still show.
  const logger = createLogger('bench').child({}, { level: 'warn' });
  // The cycle's own warnings are expected here (the failing-tick cycle) and every cycle's counts are checked.
  const cycleLogger = createLogger('bench').child({}, { level: 'error' });
  const answerText = densityAnswerJson();
  // Whole hours a day back: the synthetic source has every minute of the cycles that follow.
  const firstSec = Math.floor(Date.now() / 3_600_000) * 3600 - 86_400;
  const source = new SyntheticSource({ seed: 'predict-cycle' });
  progress('fresh database and Temporal dev server');
  const database = await createBenchDatabase({ source, fromSec: firstSec, historySec: 2 * 3600, logger });
  let slotSec = firstSec;
  // Each cycle finds its instant's prices stored, as the ingest-prices schedule keeps them (untimed).
  const nextSlot = async () => {
    slotSec += PERIOD_SEC;
    await storeNewPrices(database.pool, source, slotSec);
    return slotSec;
  };
  const figures: Record<string, unknown> = {
    sizes: options.sizes,
    reps: options.reps,
    answer_bytes: Buffer.byteLength(answerText),
  };

  await createPreviousTable(database.pool);
  let env: TestWorkflowEnvironment | undefined;
  const workers: Array<{ worker: Worker; running: Promise<void> }> = [];
  const startWorker = (worker: Worker) => {
    const entry = { worker, running: worker.run() };
    workers.push(entry);
    return entry;
  };
  const stopWorker = async (entry: { worker: Worker; running: Promise<void> }) => {
    if (entry.worker.getState() === 'RUNNING') entry.worker.shutdown();
    await entry.running;
    workers.splice(workers.indexOf(entry), 1);
  };
  try {
    env = await createTemporalTestEnv();
    const connection = { connection: env.nativeConnection };
    startWorker(await createCoordinatorWorker(connection));
    startWorker(
      await createPostgresWorker({ ...connection, db: database.pool, game: condor, source, logger: cycleLogger }),
    );

    for (const size of options.sizes) {
      progress(`${size} endpoints: starting and connecting`);
      const fleet = await BenchFleet.start(size, `n${size}`, logger);
      try {
        const modelCalls = startWorker(
          await createModelCallsWorker({
            ...connection,
            client: fleet.client,
            db: database.pool,
            game: condor,
            logger: cycleLogger,
          }),
        );
        const feed = new PriceFeed({
          client: fleet.client,
          db: database.pool,
          game: condor,
          timeoutMs: CALL_TIMEOUT_MS,
          logger: cycleLogger,
        });
        const context: SizeContext = { size, env, database, source, fleet, feed, logger: cycleLogger };

        progress(`${size} endpoints: warm-up cycles (full-history ticks)`);
        const histories: HistoryFigures[] = [];
        const warm = await workflowCycle(context, await nextSlot());
        histories.push(await historyFigures(env.client.workflow.getHandle(warm.workflowId)));
        await plainCycle(context, await nextSlot());

        const workflowRuns: Timed[] = [];
        const baselineRuns: Timed[] = [];
        const bodyBytes: number[] = [];
        for (let rep = 0; rep < options.reps; rep++) {
          // Alternating which goes first spreads slow drifts of the shared machine over both.
          const order = rep % 2 === 0 ? ['workflow', 'baseline'] : ['baseline', 'workflow'];
          for (const which of order) {
            const until = await nextSlot();
            if (which === 'workflow') {
              const run = await workflowCycle(context, until);
              workflowRuns.push(run);
              histories.push(await historyFigures(env.client.workflow.getHandle(run.workflowId)));
            } else {
              baselineRuns.push(await plainCycle(context, until));
            }
            bodyBytes.push(await storedBodyBytes(database.pool, until));
          }
          progress(
            `${size} endpoints: rep ${rep + 1}: workflow ${round1(workflowRuns.at(-1)?.ms ?? 0)} ms, ` +
              `baseline ${round1(baselineRuns.at(-1)?.ms ?? 0)} ms`,
          );
        }

        progress(`${size} endpoints: insertPredictions alone, and the previous insert`);
        const inserts: Array<{ ms: number; bytes: number }> = [];
        const reserialised: Array<{ ms: number; bytes: number }> = [];
        const previous: Array<{ ms: number; bytes: number }> = [];
        for (let rep = 0; rep < options.reps; rep++) {
          inserts.push(await timeInsert(database.pool, fleet.models, answerText, await nextSlot(), true));
          reserialised.push(await timeInsert(database.pool, fleet.models, answerText, await nextSlot(), false));
          previous.push(await timePreviousInsert(database.pool, fleet.models, answerText, await nextSlot()));
        }
        // Every tick failing with an ordinary Python error: the tick step's summary must not grow with it.
        await fleet.failTicks(TICK_ERROR);
        const failing = await workflowCycle(context, await nextSlot());
        await fleet.failTicks(null);
        const failingHistory = await historyFigures(env.client.workflow.getHandle(failing.workflowId));

        const calls = await fleet.calls();
        const cycles = 3 + 2 * options.reps;
        if (calls.predicts !== size * cycles) {
          throw new Error(`the endpoints answered ${calls.predicts} predicts, expected ${size * cycles}`);
        }

        const workflowMs = workflowRuns.map((run) => run.ms);
        const baselineMs = baselineRuns.map((run) => run.ms);
        const workflow = median(workflowMs);
        const baseline = median(baselineMs);
        const insertMs = median(inserts.map((insert) => insert.ms));
        const insertBytes = median(inserts.map((insert) => insert.bytes));
        figures[`workflow_ms_${size}`] = round1(workflow);
        figures[`baseline_ms_${size}`] = round1(baseline);
        figures[`workflow_rounds_ms_${size}`] = workflowMs.map(round1);
        figures[`baseline_rounds_ms_${size}`] = baselineMs.map(round1);
        figures[`temporal_overhead_pct_${size}`] = round1(((workflow - baseline) / baseline) * 100);
        figures[`workflow_cpu_ms_${size}`] = round1(median(workflowRuns.map((run) => run.cpuMs)));
        figures[`baseline_cpu_ms_${size}`] = round1(median(baselineRuns.map((run) => run.cpuMs)));
        figures[`stored_json_bytes_per_cycle_${size}`] = median(bodyBytes);
        figures[`insert_ms_${size}`] = round1(insertMs);
        figures[`storage_mb_per_s_${size}`] = round1(insertBytes / 1e6 / (insertMs / 1000));
        const reserialisedMs = median(reserialised.map((insert) => insert.ms));
        figures[`insert_reserialised_ms_${size}`] = round1(reserialisedMs);
        figures[`storage_reserialised_mb_per_s_${size}`] = round1(
          median(reserialised.map((insert) => insert.bytes)) / 1e6 / (reserialisedMs / 1000),
        );
        const previousMs = median(previous.map((insert) => insert.ms));
        figures[`insert_previous_ms_${size}`] = round1(previousMs);
        figures[`storage_previous_mb_per_s_${size}`] = round1(
          median(previous.map((insert) => insert.bytes)) / 1e6 / (previousMs / 1000),
        );
        figures[`insert_speedup_vs_previous_${size}`] = Math.round((previousMs / insertMs) * 10) / 10;
        figures[`history_bytes_${size}`] = Math.max(...histories.map((history) => history.bytes));
        figures[`history_events_${size}`] = Math.max(...histories.map((history) => history.events));
        const largest = histories.reduce((a, b) => (b.largestPayloadBytes > a.largestPayloadBytes ? b : a));
        figures[`largest_payload_bytes_${size}`] = largest.largestPayloadBytes;
        figures[`largest_payload_at_${size}`] = largest.largestPayloadAt;
        figures[`failing_ticks_largest_payload_bytes_${size}`] = failingHistory.largestPayloadBytes;
        figures[`failing_ticks_largest_payload_at_${size}`] = failingHistory.largestPayloadAt;
        figures[`failing_ticks_history_bytes_${size}`] = failingHistory.bytes;
        progress(
          `${size} endpoints: workflow ${round1(workflow)} ms, baseline ${round1(baseline)} ms ` +
            `(${figures[`temporal_overhead_pct_${size}`]} %), insert ${round1(insertMs)} ms ` +
            `(${figures[`storage_mb_per_s_${size}`]} MB/s), history ${figures[`history_bytes_${size}`]} bytes`,
        );
        await stopWorker(modelCalls);
      } finally {
        await fleet.stop();
      }
    }
    const largest = Math.max(...options.sizes);
    figures.storage_mb_per_s = figures[`storage_mb_per_s_${largest}`];
    return figures;
  } finally {
    for (const entry of [...workers]) await stopWorker(entry);
    await env?.teardown();
    await database.drop();
  }
}
