import {
  type AppendCycleResult,
  appendMerkleCycle,
  type CreateCheckpointResult,
  createCheckpoint,
  type DatabasePool,
} from '../lib/db/index.js';
import { createLogger, type Logger } from '../lib/log/index.js';
import { withHeartbeat } from './heartbeat.js';

export interface EmissionDeps {
  db: DatabasePool;
  logger?: Logger;
}

export interface MerkleCycleSummary {
  outcome: AppendCycleResult['outcome'];
  cycleId: string | null;
  snapshots: number;
  chainedRoot: string | null;
}

export interface CreateCheckpointInput {
  /** Unix seconds. */
  periodEnd: number;
  everySeconds: number;
  crunch: string;
  computeProvider?: string;
  dataProvider?: string;
}

/** The Merkle chain and checkpoints (lib/db, lib/emission): database work, on the `postgres` queue. */
export function createEmissionActivities(deps: EmissionDeps) {
  const log = deps.logger ?? createLogger('emission');
  return {
    /** The Merkle cycle of the score pass at `asOf` (unix seconds): appended once, returned as stored after. */
    async appendMerkleCycle(input: { asOf: number }): Promise<MerkleCycleSummary> {
      const result = await appendMerkleCycle(deps.db, input);
      const at = new Date(input.asOf * 1000).toISOString();
      if (result.cycle === null) {
        log.info(
          { asOf: at, outcome: result.outcome },
          result.outcome === 'no-snapshots'
            ? `no Merkle cycle at ${at}: no model was ranked`
            : `no Merkle cycle at ${at}: the chain already has a later cycle`,
        );
        return { outcome: result.outcome, cycleId: null, snapshots: 0, chainedRoot: null };
      }
      if (result.outcome === 'appended') {
        log.info(
          { asOf: at, cycle: result.cycle.id, snapshots: result.cycle.snapshotCount },
          `Merkle cycle ${result.cycle.id}: ${result.cycle.snapshotCount} snapshots chained`,
        );
      }
      return {
        outcome: result.outcome,
        cycleId: result.cycle.id,
        snapshots: result.cycle.snapshotCount,
        chainedRoot: result.cycle.chainedRoot,
      };
    },

    /** The checkpoint of the period ending at `periodEnd`: made once, returned as stored after. */
    async createCheckpoint(input: CreateCheckpointInput): Promise<CreateCheckpointResult> {
      return withHeartbeat(async () => {
        const result = await createCheckpoint(deps.db, input);
        const end = new Date(input.periodEnd * 1000).toISOString();
        if (result.outcome === 'created') {
          const c = result.checkpoint;
          log.info(
            { checkpoint: c.id, models: c.models, cycles: c.cycles, merkleRoot: c.merkleRoot },
            `checkpoint ${c.id} made: ${c.models} models ranked, ${c.cycles} Merkle cycles, waiting for the platform to settle it`,
          );
        } else if (result.outcome === 'covered') {
          log.info({ periodEnd: end }, `no checkpoint ending ${end}: a later checkpoint already covers that time`);
        } else if (result.outcome === 'nothing-ranked') {
          log.warn({ periodEnd: end }, `no checkpoint ending ${end}: no leaderboard was published in the period`);
        }
        return result;
      });
    },
  };
}

export type EmissionActivities = ReturnType<typeof createEmissionActivities>;
