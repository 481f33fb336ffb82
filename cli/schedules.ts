import {
  type Client,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  type ScheduleOptions,
  ScheduleOverlapPolicy,
} from '@temporalio/client';
import type { Logger } from '../lib/log/index.js';
import { SLOT_LEAD_SEC, slotRoundBoundMs } from '../lib/schedule/index.js';
import { scheduledStart } from './workflows.js';

export interface ScheduleSettings {
  /** Deadline of one model call: shorter than the gap between two slots of a model (lib/schedule). */
  predictTimeoutMs: number;
  modelShards: number;
  /** Seconds between score passes; leave out to not schedule scoring. */
  scoreEverySeconds?: number;
  /** The game the predict cycles and score passes play (lib/game id). */
  game: string;
  /** Emission checkpoints: one per period; leave out to not schedule them. */
  checkpoint?: CheckpointScheduleSettings;
}

/** What each checkpoint run is given (the workflow's input, visible in the Web UI). */
export interface CheckpointScheduleSettings {
  everySeconds: number;
  crunch: string;
  computeProvider?: string;
  dataProvider?: string;
}

export const scheduleIds = {
  ingestPrices: 'ingest-prices',
  predictSlots: 'predict-slots',
  scorePass: 'score-pass',
  emissionCheckpoint: 'emission-checkpoint',
} as const;

/**
 * Ids of checkpoint runs: `checkpoint-<period end>`, the form the schedule gives its runs, so a run started by
 * hand for the same instant is the same workflow and a period is never checkpointed twice.
 */
export const checkpointWorkflowPrefix = 'checkpoint';
export function checkpointWorkflowId(periodEnd: Date): string {
  return `${checkpointWorkflowPrefix}-${periodEnd.toISOString().replace(/\.\d{3}Z$/, 'Z')}`;
}
/** Schedules of earlier versions, deleted on start: `predict-cycle` asked every slot of a period at once. */
export const retiredScheduleIds = ['predict-cycle'] as const;

/** Each predict-slots run paces the slots of ten minutes, reading the prediction configs once. */
export const predictWindowSeconds = 600;

/** Prices come in every minute: the price sources' resolution, and the scoring's finest step. */
export const ingestPricesEverySeconds = 60;

/**
 * The recurring jobs. Each started run gets the id `<schedule id>-<scheduled time>`, so a duplicated
 * start of the same instant is refused by Temporal itself.
 * - ingest-prices: every minute, apart from the model calls so prices never wait for a model. SKIP: the
 *   next run fetches whatever a skipped one would have (its writes are idempotent); a run is bounded to
 *   10 minutes (a first run fetches 30 days of history), so one stuck source call never holds it. Each
 *   run then starts the models' feed of the new prices (feedModels) without waiting for it.
 * - predict-slots: every ten minutes a run that sleeps to each slot instant of the window (the grid of
 *   the prediction configs, fractional seconds included, which a schedule cannot express: Temporal
 *   rounds interval schedules to whole seconds) and starts that slot's own run, `predict-slot-<instant>`,
 *   without waiting for it. ALLOW_ALL: a window's run never waits for another, and slot runs are
 *   unique by id, so two pacing runs over one window ask nothing twice. Started once at once by
 *   ensureSchedules (a trigger), so predictions begin now rather than at the next window.
 * - score-pass: SKIP, as the next pass scores whatever the skipped one would have; catch-up of one period.
 * - emission-checkpoint: intervals are aligned to the epoch, so periods are too (weekly: Thursday 00:00
 *   UTC to the next). BUFFER_ONE and a catch-up window of a whole period: a checkpoint missed while the
 *   workers were down is made when they are back, never skipped.
 * Every run has a run timeout, so a run stuck on a repeating failure ends and never holds its schedule.
 */
export function scheduleDefinitions(settings: ScheduleSettings): ScheduleOptions[] {
  const definitions: ScheduleOptions[] = [
    {
      scheduleId: scheduleIds.ingestPrices,
      spec: { intervals: [{ every: `${ingestPricesEverySeconds}s` }] },
      action: scheduledStart(
        'ingestPrices',
        scheduleIds.ingestPrices,
        [{ game: settings.game, shards: settings.modelShards }],
        { workflowRunTimeout: '10 minutes' },
      ),
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: `${ingestPricesEverySeconds}s` },
    },
    {
      scheduleId: scheduleIds.predictSlots,
      // Each run starts SLOT_LEAD_SEC before its window, as it starts each slot's run before the slot.
      spec: { intervals: [{ every: `${predictWindowSeconds}s`, offset: `${predictWindowSeconds - SLOT_LEAD_SEC}s` }] },
      action: scheduledStart(
        'predictSlots',
        scheduleIds.predictSlots,
        [
          {
            game: settings.game,
            windowSec: predictWindowSeconds,
            shards: settings.modelShards,
            timeoutMs: settings.predictTimeoutMs,
          },
        ],
        // The window, then its last slot's round.
        { workflowRunTimeout: predictWindowSeconds * 1000 + slotRoundBoundMs(settings.predictTimeoutMs) },
      ),
      policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL, catchupWindow: `${predictWindowSeconds}s` },
    },
  ];
  if (settings.scoreEverySeconds) {
    definitions.push({
      scheduleId: scheduleIds.scorePass,
      spec: { intervals: [{ every: `${settings.scoreEverySeconds}s` }] },
      // A pass continues as new every few pages, so a run is short; one that is not has a problem.
      action: scheduledStart('scorePass', scheduleIds.scorePass, [{ game: settings.game }], {
        workflowRunTimeout: '1 hour',
      }),
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: `${settings.scoreEverySeconds}s` },
    });
  }
  if (settings.checkpoint) {
    definitions.push({
      scheduleId: scheduleIds.emissionCheckpoint,
      spec: { intervals: [{ every: `${settings.checkpoint.everySeconds}s` }] },
      action: scheduledStart('emissionCheckpoint', checkpointWorkflowPrefix, [settings.checkpoint]),
      policies: { overlap: ScheduleOverlapPolicy.BUFFER_ONE, catchupWindow: `${settings.checkpoint.everySeconds}s` },
    });
  }
  return definitions;
}

/** Creates the schedules, or brings existing ones in line with the settings (safe to call on every start). */
export async function ensureSchedules(client: Client, settings: ScheduleSettings, logger: Logger): Promise<void> {
  for (const definition of scheduleDefinitions(settings)) {
    try {
      await client.schedule.create(definition);
      logger.info({ schedule: definition.scheduleId }, `created schedule ${definition.scheduleId}`);
    } catch (error) {
      if (!(error instanceof ScheduleAlreadyRunning)) throw error;
      await client.schedule.getHandle(definition.scheduleId).update((previous) => ({
        ...previous,
        spec: definition.spec,
        action: definition.action,
        policies: { ...previous.policies, ...definition.policies },
      }));
      logger.info({ schedule: definition.scheduleId }, `schedule ${definition.scheduleId} is up to date`);
    }
  }
  for (const retired of retiredScheduleIds) {
    try {
      await client.schedule.getHandle(retired).delete();
      logger.info({ schedule: retired }, `deleted the schedule ${retired} of an earlier version`);
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    }
  }
  // Pace the rest of the current window now; the schedule's own runs start at each window's start.
  await client.schedule.getHandle(scheduleIds.predictSlots).trigger(ScheduleOverlapPolicy.ALLOW_ALL);
}
