import { activePredictionConfigs, type DatabasePool } from '../lib/db/index.js';
import type { PredictionGroup } from '../lib/schedule/index.js';

export interface StorageDeps {
  db: DatabasePool;
}

export function createStorageActivities(deps: StorageDeps) {
  return {
    /**
     * The active prediction configs as round-robin groups: configs sharing (horizon, step, interval)
     * form one group whose assets take turns, in the configs' stored order.
     */
    async loadPredictionGroups(): Promise<PredictionGroup[]> {
      const groups = new Map<string, PredictionGroup & { assets: string[] }>();
      for (const config of await activePredictionConfigs(deps.db)) {
        const key = `${config.horizon}/${config.step}/${config.interval}`;
        const group = groups.get(key) ?? {
          horizonSec: config.horizon,
          stepSec: config.step,
          intervalSec: config.interval,
          assets: [],
        };
        group.assets.push(config.asset);
        groups.set(key, group);
      }
      return [...groups.values()];
    },
  };
}

export type StorageActivities = ReturnType<typeof createStorageActivities>;
