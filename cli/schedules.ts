import { type Client, ScheduleAlreadyRunning, type ScheduleOptions, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Logger } from '../lib/log/index.js';
import { scheduledStart } from './workflows.js';

export interface ScheduleSettings {
  predictEverySeconds: number;
  predictTimeoutMs: number;
  modelShards: number;
  /** Seconds between score passes; leave out to not schedule scoring. */
  scoreEverySeconds?: number;
  /** The game the predict cycles and score passes play (lib/game id). */
  game: string;
}

export const scheduleIds = {
  ingestPrices: 'ingest-prices',
  predictCycle: 'predict-cycle',
  scorePass: 'score-pass',
} as const;

/** Prices come in every minute: the price sources' resolution, and the scoring's finest step. */
export const ingestPricesEverySeconds = 60;

/**
 * The recurring jobs. Each started run gets the id `<schedule id>-<scheduled time>`, so a duplicated
 * start of the same instant is refused by Temporal itself.
 * - ingest-prices: every minute, apart from the model calls so prices never wait for a model. SKIP: the
 *   next run fetches whatever a skipped one would have (its writes are idempotent); a run is bounded to
 *   10 minutes (a first run fetches 30 days of history), so one stuck source call never holds it.
 * - predict-cycle: BUFFER_ONE, so a slow cycle delays the next one instead of running beside it (two
 *   cycles would compete for the same single-threaded model servers); a 5-minute catch-up window, since a
 *   prediction asked much later than its slot is worth little, and a longer outage is a gap to see, not
 *   to paper over.
 * - score-pass: SKIP, as the next pass scores whatever the skipped one would have; catch-up of one period.
 */
export function scheduleDefinitions(settings: ScheduleSettings): ScheduleOptions[] {
  const definitions: ScheduleOptions[] = [
    {
      scheduleId: scheduleIds.ingestPrices,
      spec: { intervals: [{ every: `${ingestPricesEverySeconds}s` }] },
      action: scheduledStart('ingestPrices', scheduleIds.ingestPrices, [{}], { workflowRunTimeout: '10 minutes' }),
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: `${ingestPricesEverySeconds}s` },
    },
    {
      scheduleId: scheduleIds.predictCycle,
      spec: { intervals: [{ every: `${settings.predictEverySeconds}s` }] },
      action: scheduledStart('predictCycle', scheduleIds.predictCycle, [
        {
          game: settings.game,
          periodSec: settings.predictEverySeconds,
          shards: settings.modelShards,
          timeoutMs: settings.predictTimeoutMs,
        },
      ]),
      policies: { overlap: ScheduleOverlapPolicy.BUFFER_ONE, catchupWindow: '5 minutes' },
    },
  ];
  if (settings.scoreEverySeconds) {
    definitions.push({
      scheduleId: scheduleIds.scorePass,
      spec: { intervals: [{ every: `${settings.scoreEverySeconds}s` }] },
      action: scheduledStart('scorePass', scheduleIds.scorePass, [{ game: settings.game }]),
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: `${settings.scoreEverySeconds}s` },
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
}
