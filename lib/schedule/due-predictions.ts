/** One prediction group: its assets are predicted round-robin, one every `intervalSec / assets.length`. */
export interface PredictionGroup {
  horizonSec: number;
  stepSec: number;
  intervalSec: number;
  assets: readonly string[];
}

/** The groups of a game's prediction configs (`GameDefinition.defaultPredictionConfigs`). */
export function predictionGroupsOf(
  configs: ReadonlyArray<{ assets: readonly string[]; horizon: number; step: number; interval: number }>,
): PredictionGroup[] {
  return configs.map((config) => ({
    horizonSec: config.horizon,
    stepSec: config.step,
    intervalSec: config.interval,
    assets: config.assets,
  }));
}

export interface DuePrediction {
  asset: string;
  horizonSec: number;
  stepSec: number;
  /** The slot instant (unix seconds) this prediction stands for: the same on every retry of the cycle. */
  slotSec: number;
}

/**
 * The predictions a cycle scheduled at `scheduledSec` must ask for: every round-robin slot of every group
 * that falls in the cycle's window (scheduledSec - periodSec, scheduledSec]. Pure arithmetic on the
 * scheduled time, so a retried, replayed or backfilled cycle asks for exactly the same predictions, and
 * consecutive cycles neither skip nor repeat a slot whatever the slot length.
 */
export function duePredictions(
  scheduledSec: number,
  periodSec: number,
  groups: readonly PredictionGroup[],
): DuePrediction[] {
  if (!(periodSec > 0)) throw new RangeError(`the cycle period must be positive, got ${periodSec}`);
  const due: DuePrediction[] = [];
  for (const group of groups) {
    const count = group.assets.length;
    if (count === 0) continue;
    if (!(group.intervalSec > 0)) throw new RangeError(`a group's interval must be positive, got ${group.intervalSec}`);
    const slotLength = group.intervalSec / count;
    // Slots are k * slotLength; take every k with scheduledSec - periodSec < k * slotLength <= scheduledSec.
    const first = Math.floor((scheduledSec - periodSec) / slotLength) + 1;
    const last = Math.floor(scheduledSec / slotLength);
    for (let k = first; k <= last; k++) {
      const asset = group.assets[((k % count) + count) % count] as string;
      due.push({ asset, horizonSec: group.horizonSec, stepSec: group.stepSec, slotSec: k * slotLength });
    }
  }
  return due.sort((a, b) => a.slotSec - b.slotSec || a.horizonSec - b.horizonSec || a.asset.localeCompare(b.asset));
}
