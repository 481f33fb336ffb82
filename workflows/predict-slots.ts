import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import { log, ParentClosePolicy, sleep, startChild, upsertSearchAttributes } from '@temporalio/workflow';
import { checkCallDeadline } from '../lib/cycle/call-deadline.js';
import { SLOT_LEAD_SEC, slotRoundBoundMs, slotsBetween } from '../lib/schedule/index.js';
import { searchAttributes } from '../lib/temporal/search-attributes.js';
import { gameOf, positiveInteger, runInstant } from './inputs.js';
import type { predictSlot } from './predict-slot.js';
import { postgres } from './queues.js';

export interface PredictSlotsInput {
  /**
   * When the run starts (ISO; default: the schedule's scheduled time, else the start time). It paces the
   * slots from SLOT_LEAD_SEC (lib/schedule) after it up to the next multiple of `windowSec`.
   */
  scheduledAt?: string;
  /** Game id (lib/game), default the default game; it must be the model-calls workers' game. */
  game?: string;
  /** The run paces the slots up to the next multiple of this many seconds (the schedule's period). */
  windowSec?: number;
  /** Predict fan-out activities per slot. */
  shards?: number;
  /** Deadline of one model call. */
  timeoutMs?: number;
  /** A slot reached later than this after its instant (a worker was down) is left out. Default 60 s. */
  lateLimitSec?: number;
}

export interface PredictSlotsResult {
  from: string;
  to: string;
  /** Slot runs this run started. */
  started: number;
  /** Slots another run had started already (two pacing runs over the same window). */
  alreadyStarted: number;
  /** Slots left out because they were reached too late. */
  late: number;
}

/**
 * Paces the prediction slots of one window: sleeps to just before each slot's instant (a durable timer,
 * millisecond precision) and starts that slot's own run, `predict-slot-<ISO instant>`, without waiting for it. Slot
 * runs so run beside each other, each bounded by the call deadline: a slow model never delays or drops
 * the next slot. The grid comes from the active prediction configs, read once per window.
 */
export async function predictSlots(input: PredictSlotsInput = {}): Promise<PredictSlotsResult> {
  // The schedule starts the run SLOT_LEAD_SEC before its window, so the window's first slot gets its lead.
  const fromSec = runInstant(input.scheduledAt, 'scheduledAt') + SLOT_LEAD_SEC;
  const windowSec = positiveInteger(input.windowSec, 600, 'windowSec');
  const toSec = (Math.floor(fromSec / windowSec) + 1) * windowSec;
  const game = gameOf(input);
  const shards = positiveInteger(input.shards, 1, 'shards');
  const timeoutMs = input.timeoutMs ?? 60_000;
  const lateLimitMs = (input.lateLimitSec ?? 60) * 1000;
  upsertSearchAttributes([{ key: searchAttributes.cycleTime, value: new Date(fromSec * 1000) }]);

  const groups = await postgres.loadPredictionGroups();
  const deadline = checkCallDeadline(groups, timeoutMs);
  if (!deadline.ok) log.warn(deadline.message);
  const assets = [...new Set(groups.flatMap((group) => group.assets))];

  const result: PredictSlotsResult = {
    from: new Date(fromSec * 1000).toISOString(),
    to: new Date(toSec * 1000).toISOString(),
    started: 0,
    alreadyStarted: 0,
    late: 0,
  };
  for (const slot of slotsBetween(fromSec, toSec, groups)) {
    const slotMs = slot.slotSec * 1000;
    // Date.now() in a workflow is the time of the current activation: replays see the same. The slot's
    // run starts a little ahead; its activity waits for the instant itself before calling.
    const wait = slotMs - SLOT_LEAD_SEC * 1000 - Date.now();
    if (wait > 0) await sleep(Math.ceil(wait));
    if (Date.now() - slotMs > lateLimitMs) {
      result.late++;
      continue;
    }
    const slotAt = new Date(slotMs).toISOString();
    try {
      await startChild<typeof predictSlot>('predictSlot', {
        workflowId: `predict-slot-${slotAt}`,
        args: [{ slotAt, due: slot.due, assets, game, shards, timeoutMs }],
        // The slot's run outlives this one (the window's last slot ends after it), and never runs twice.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        workflowRunTimeout: slotRoundBoundMs(timeoutMs),
      });
      result.started++;
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      result.alreadyStarted++;
    }
  }
  if (result.late > 0) log.warn(`${result.late} slot(s) of this window were reached too late and left out`);
  return result;
}
