// Cycle latency: from a prediction slot's instant to the honest models' predictions stored, with 1 %
// of the models hostile (they take their tick but never answer predict; at least one), at each size.
// Two ways, alternating slot by slot in the same run: the coordinator's (a workflow started at the
// slot's instant runs the predictShard activity on the model-calls worker, Temporal dev server, all
// in this process) and a plain Node loop making the same calls and inserts (the baseline). Times come
// from the database: a trigger notes when each row's insert ended.
//
//   npm run bench -- cycle-latency [--sizes 10,1000] [--reps 10]
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { checkCallDeadline } from '../lib/cycle/index.js';
import { condor } from '../lib/game/index.js';
import { createLogger } from '../lib/log/index.js';
import { SyntheticSource } from '../lib/market-data/index.js';
import { createTemporalTestEnv } from '../test/support/temporal.js';
import { createModelCallsWorker } from '../workers/model-calls.js';
import { plainSlot } from './cycle-latency/plain-loop.js';
import { recordStoredTimes, type SlotRow, slotRows } from './cycle-latency/stored-times.js';
import { createBenchDatabase } from './predict-cycle/database.js';
import { BenchFleet } from './predict-cycle/fleet.js';
import { median, round1 } from './support/figures.js';

const BENCH_QUEUE = 'bench-cycle-latency';
/**
 * Slots one every few seconds, and the call deadline (what a hostile model costs its own slot) shorter
 * than that: long enough for every honest answer on a shared two-core machine, where 1,000 answers
 * (and their checks) can take several seconds under other people's load.
 */
function timingFor(size: number): { gapSec: number; deadlineMs: number } {
  return size > 100 ? { gapSec: 20, deadlineMs: 15_000 } : { gapSec: 4, deadlineMs: 2_500 };
}
/** The first (full-history) ticks of 1,000 models at once take longer than a slot's deadline here. */
const WARM_UP_TICK_MS = 60_000;
/** A one-hour forecast in one-minute steps: 60 densities per answer. */
const DUE = { asset: 'BTC', horizonSec: 3_600, stepSec: 60 } as const;
const progress = (message: string) => process.stderr.write(`[cycle-latency] ${message}\n`);

interface Options {
  sizes: number[];
  reps: number;
}

function parseOptions(args: string[]): Options {
  const options: Options = { sizes: [10, 1000], reps: 10 };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--sizes') options.sizes = String(args[++i]).split(',').map(Number);
    else if (arg === '--reps') options.reps = Number(args[++i]);
    else throw new Error(`unknown argument ${arg}; use --sizes 10,1000 --reps 10`);
  }
  if (options.sizes.some((n) => !Number.isInteger(n) || n < 2) || !Number.isInteger(options.reps) || options.reps < 1) {
    throw new Error('--sizes needs whole numbers >= 2 and --reps a whole number >= 1');
  }
  return options;
}

/** The p-th percentile (nearest rank) of the values; 0 for none. */
function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/** Sleeps until the next slot instant (every `gapSec`) at least `marginMs` away; returns it (unix seconds). */
async function nextSlot(gapSec: number, marginMs: number): Promise<number> {
  const slotSec = Math.ceil((Date.now() + marginMs) / 1000 / gapSec) * gapSec;
  await sleep(Math.max(0, slotSec * 1000 - Date.now()));
  return slotSec;
}

interface PathFigures {
  stored: number[];
  called: number[];
  missing: number;
  /** Why honest models missed a slot: status and reason (cut), with counts. */
  whyMissing: Record<string, number>;
  /** Temporal path only: slot instant to the workflow's start and to the activity's start, ms. */
  workflowStarted: number[];
  activityStarted: number[];
}

export default async function cycleLatency(args: string[]): Promise<Record<string, unknown>> {
  const options = parseOptions(args);
  const logger = createLogger('bench').child({}, { level: 'error' });
  const source = new SyntheticSource({ seed: 'cycle-latency' });
  const nowSec = Math.floor(Date.now() / 60_000) * 60;
  progress('fresh database and Temporal dev server');
  const database = await createBenchDatabase({ source, fromSec: nowSec, historySec: 3_600, logger });
  await recordStoredTimes(database.pool);
  const figures: Record<string, unknown> = {
    sizes: options.sizes,
    reps: options.reps,
  };
  let env: TestWorkflowEnvironment | undefined;
  const running: Array<{ worker: Worker; done: Promise<void> }> = [];
  const stop = async (entry: { worker: Worker; done: Promise<void> }) => {
    if (entry.worker.getState() === 'RUNNING') entry.worker.shutdown();
    await entry.done;
    running.splice(running.indexOf(entry), 1);
  };
  let missingHonest = 0;
  try {
    env = await createTemporalTestEnv();
    const slotWorker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: BENCH_QUEUE,
      workflowsPath: resolve(import.meta.dirname, 'cycle-latency/workflow.ts'),
    });
    running.push({ worker: slotWorker, done: slotWorker.run() });

    for (const size of options.sizes) {
      const hostile = Math.max(1, Math.round(size / 100));
      const { gapSec, deadlineMs } = timingFor(size);
      const deadlineCheck = checkCallDeadline([{ intervalSec: gapSec, assets: [DUE.asset] }], deadlineMs);
      if (!deadlineCheck.ok) throw new Error(deadlineCheck.message);
      figures[`deadline_ms_${size}`] = deadlineMs;
      figures[`slot_gap_ms_${size}`] = gapSec * 1000;
      progress(`${size} models (${hostile} hostile): starting and connecting`);
      const fleet = await BenchFleet.start(size, `n${size}`, logger, { silent: hostile, steps: 60 });
      const honest = fleet.models.slice(hostile).map((model) => model.modelId);
      try {
        const modelCallsWorker = await createModelCallsWorker({
          connection: env.nativeConnection,
          client: fleet.client,
          db: database.pool,
          game: condor,
          tickTimeoutMs: WARM_UP_TICK_MS,
          logger,
        });
        const modelCalls = { worker: modelCallsWorker, done: modelCallsWorker.run() };
        running.push(modelCalls);
        const client = env.client;

        const temporalSlot = async (slotSec: number) => {
          const input = {
            game: condor.id,
            assets: [DUE.asset],
            untilSec: slotSec,
            shard: { index: 0, count: 1 },
            due: [{ ...DUE, slotSec }],
            timeoutMs: deadlineMs,
          };
          const workflowId = `bench-slot-${size}-${slotSec}`;
          await client.workflow.execute('benchPredictSlot', { taskQueue: BENCH_QUEUE, workflowId, args: [input] });
          return workflowId;
        };
        /** When Temporal started the workflow and the activity, ms after the slot's instant (from its history). */
        const temporalSteps = async (workflowId: string, slotSec: number) => {
          const history = await client.workflow.getHandle(workflowId).fetchHistory();
          const at = (predicate: (event: (typeof history.events & object)[number]) => boolean) => {
            const time = history.events?.find(predicate)?.eventTime;
            return time ? Number(time.seconds ?? 0) * 1000 + (time.nanos ?? 0) / 1e6 - slotSec * 1000 : Number.NaN;
          };
          return {
            workflowStarted: at((event) => Boolean(event.workflowExecutionStartedEventAttributes)),
            activityStarted: at((event) => Boolean(event.activityTaskStartedEventAttributes)),
          };
        };
        const baselineSlot = (slotSec: number) =>
          plainSlot(fleet.client, database.pool, {
            slotSec,
            asset: DUE.asset,
            horizon: DUE.horizonSec,
            step: DUE.stepSec,
            timeoutMs: deadlineMs,
          });

        // Warm-up: every model gets its history (through the activity), both paths run once; until
        // every honest model answered (a first tick may time out while 1,000 of them start at once).
        for (let attempt = 1; ; attempt++) {
          progress(`${size} models: warm-up ${attempt}`);
          const slotSec = await nextSlot(gapSec, 200);
          await temporalSlot(slotSec);
          const rows = await slotRows(database.pool, slotSec);
          const answered = rows.filter((row) => row.status === 'SUCCESS');
          if (answered.length >= honest.length) break;
          if (attempt === 3) {
            const why: Record<string, number> = {};
            for (const row of rows) {
              const key = `${row.status}: ${(row.reason ?? '').slice(0, 60)}`;
              why[key] = (why[key] ?? 0) + 1;
            }
            throw new Error(
              `after 3 warm-up slots only ${answered.length} of ${honest.length} answered: ${JSON.stringify(why)}`,
            );
          }
        }
        await baselineSlot(await nextSlot(gapSec, 200));

        const paths: Record<'temporal' | 'plain', PathFigures> = {
          temporal: { stored: [], called: [], missing: 0, whyMissing: {}, workflowStarted: [], activityStarted: [] },
          plain: { stored: [], called: [], missing: 0, whyMissing: {}, workflowStarted: [], activityStarted: [] },
        };
        const measure = async (which: 'temporal' | 'plain', slotSec: number) => {
          const rows = await slotRows(database.pool, slotSec);
          const byModel = new Map<string, SlotRow>(rows.map((row) => [row.model_id, row]));
          const figures = paths[which];
          for (const modelId of honest) {
            const row = byModel.get(modelId);
            if (row?.status !== 'SUCCESS') {
              figures.missing++;
              const why = row ? `${row.status}: ${(row.reason ?? '').slice(0, 60)}` : 'no row';
              figures.whyMissing[why] = (figures.whyMissing[why] ?? 0) + 1;
            } else {
              figures.stored.push(row.stored_ms);
              figures.called.push(row.called_ms);
            }
          }
        };
        for (let rep = 0; rep < options.reps; rep++) {
          // Alternating which goes first spreads slow drifts of the shared machine over both.
          for (const which of rep % 2 === 0 ? (['temporal', 'plain'] as const) : (['plain', 'temporal'] as const)) {
            const slotSec = await nextSlot(gapSec, 200);
            if (which === 'temporal') {
              const steps = await temporalSteps(await temporalSlot(slotSec), slotSec);
              paths.temporal.workflowStarted.push(steps.workflowStarted);
              paths.temporal.activityStarted.push(steps.activityStarted);
            } else await baselineSlot(slotSec);
            await measure(which, slotSec);
          }
          progress(
            `${size} models: rep ${rep + 1}: temporal p50 ${round1(median(paths.temporal.stored))} ms, ` +
              `plain p50 ${round1(median(paths.plain.stored))} ms`,
          );
        }
        const { temporal, plain } = paths;
        missingHonest += temporal.missing + plain.missing;
        figures[`hostile_${size}`] = hostile;
        figures[`slot_to_stored_ms_p50_${size}`] = round1(percentile(temporal.stored, 50));
        figures[`slot_to_stored_ms_p99_${size}`] = round1(percentile(temporal.stored, 99));
        figures[`slot_to_workflow_started_ms_p50_${size}`] = round1(percentile(temporal.workflowStarted, 50));
        figures[`slot_to_activity_started_ms_p50_${size}`] = round1(percentile(temporal.activityStarted, 50));
        figures[`slot_to_call_ms_p50_${size}`] = round1(percentile(temporal.called, 50));
        figures[`plain_slot_to_stored_ms_p50_${size}`] = round1(percentile(plain.stored, 50));
        figures[`plain_slot_to_stored_ms_p99_${size}`] = round1(percentile(plain.stored, 99));
        figures[`plain_slot_to_call_ms_p50_${size}`] = round1(percentile(plain.called, 50));
        figures[`ratio_vs_plain_p50_${size}`] =
          Math.round((percentile(temporal.stored, 50) / percentile(plain.stored, 50)) * 100) / 100;
        figures[`missing_honest_slots_${size}`] = temporal.missing + plain.missing;
        if (temporal.missing + plain.missing > 0) {
          figures[`missing_why_${size}`] = { temporal: temporal.whyMissing, plain: plain.whyMissing };
        }
        progress(
          `${size} models: temporal p50 ${figures[`slot_to_stored_ms_p50_${size}`]} / p99 ` +
            `${figures[`slot_to_stored_ms_p99_${size}`]} ms, plain p50 ${figures[`plain_slot_to_stored_ms_p50_${size}`]} ms`,
        );
        await stop(modelCalls);
      } finally {
        await fleet.stop();
      }
    }
    figures.missing_honest_slots = missingHonest;
    return figures;
  } finally {
    for (const entry of [...running]) await stop(entry);
    await env?.teardown();
    await database.drop();
  }
}
