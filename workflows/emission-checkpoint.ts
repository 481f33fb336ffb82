import { upsertSearchAttributes } from '@temporalio/workflow';
import type { CheckpointSummary } from '../lib/db/index.js';
import { searchAttributes } from '../lib/temporal/search-attributes.js';
import { positiveInteger, runInstant } from './inputs.js';
import { postgres } from './queues.js';

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

/**
 * The emission checkpoint of one period: the ranking of the leaderboard at the period's end, the
 * default reward tiers in frac64, and the Merkle root over the score passes' cycles since the previous
 * checkpoint, stored in one transaction. The run's id names the period's end; the database refuses a
 * second checkpoint for it, so running it again returns the stored one unchanged.
 */
export async function emissionCheckpoint(input: EmissionCheckpointInput = {}): Promise<EmissionCheckpointResult> {
  const periodEnd = runInstant(input.periodEnd, 'periodEnd');
  const everySeconds = positiveInteger(input.everySeconds, defaultCheckpointSeconds, 'everySeconds');
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
