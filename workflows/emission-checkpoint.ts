import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { ApplicationFailure, proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { EmissionActivities } from '../activities/index.js';
import type { CheckpointSummary } from '../lib/db/index.js';
import { searchAttributes } from '../lib/temporal/search-attributes.js';
import { taskQueues } from '../lib/temporal/task-queues.js';

/** One week: the default period of a checkpoint. */
export const defaultCheckpointSeconds = 604_800;

export interface EmissionCheckpointInput {
  /** The period's end (ISO). Default: the schedule's scheduled time, else the start time; whole seconds. */
  periodEnd?: string;
  /** Length of the first period (later ones start where the previous ended); default a week. */
  everySeconds?: number;
  /** The crunch's on-chain address, written into the emission ('' until configured). */
  crunch?: string;
  computeProvider?: string;
  dataProvider?: string;
}

export interface EmissionCheckpointResult {
  periodEnd: string;
  /** created, existing (made before: unchanged), covered (a later checkpoint exists), nothing-ranked. */
  outcome: 'created' | 'existing' | 'covered' | 'nothing-ranked';
  checkpoint: CheckpointSummary | null;
}

const postgres = proxyActivities<EmissionActivities>({
  taskQueue: taskQueues.postgres,
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 10, maximumInterval: '1 minute' },
});

const scheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

function periodEndOf(input: EmissionCheckpointInput): number {
  if (input.periodEnd !== undefined) {
    const ms = new Date(input.periodEnd).getTime();
    if (Number.isNaN(ms)) {
      throw ApplicationFailure.nonRetryable(`periodEnd "${input.periodEnd}" is not an ISO-8601 instant`, 'BadInput');
    }
    return Math.floor(ms / 1000);
  }
  const info = workflowInfo();
  return Math.floor((info.typedSearchAttributes.get(scheduledStartTime) ?? info.startTime).getTime() / 1000);
}

/**
 * The emission checkpoint of one period: the ranking of the leaderboard at the period's end, the
 * default reward tiers in frac64, and the Merkle root over the score passes' cycles since the previous
 * checkpoint, stored in one transaction. The run's id names the period's end; the database refuses a
 * second checkpoint for it, so running it again returns the stored one unchanged.
 */
export async function emissionCheckpoint(input: EmissionCheckpointInput = {}): Promise<EmissionCheckpointResult> {
  const periodEnd = periodEndOf(input);
  const everySeconds = input.everySeconds ?? defaultCheckpointSeconds;
  if (!(Number.isInteger(everySeconds) && everySeconds > 0)) {
    throw ApplicationFailure.nonRetryable(
      `everySeconds must be a positive whole number, got ${everySeconds}`,
      'BadInput',
    );
  }
  upsertSearchAttributes([{ key: searchAttributes.cycleTime, value: new Date(periodEnd * 1000) }]);
  const result = await postgres.createCheckpoint({
    periodEnd,
    everySeconds,
    crunch: input.crunch ?? '',
    ...(input.computeProvider ? { computeProvider: input.computeProvider } : {}),
    ...(input.dataProvider ? { dataProvider: input.dataProvider } : {}),
  });
  return {
    periodEnd: new Date(periodEnd * 1000).toISOString(),
    outcome: result.outcome,
    checkpoint: result.checkpoint,
  };
}
