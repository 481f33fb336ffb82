import type { DuePrediction, PredictionGroup } from './due-predictions.js';

/** One instant of the slot grid and every (group, asset) prediction due at it. */
export interface Slot {
  /** Unix seconds (fractional when a group's slot length is, e.g. 7.5 s). */
  slotSec: number;
  due: DuePrediction[];
}

const slotLength = (group: PredictionGroup) => group.intervalSec / group.assets.length;

/**
 * The slot instants in [fromSec, toSec), merged over every group, each with the predictions due at it.
 * The same arithmetic as `duePredictions` (slot k of a group is `k * interval / assets`), so a slot
 * found here is the one a cycle over a window around it would ask for.
 */
export function slotsBetween(fromSec: number, toSec: number, groups: readonly PredictionGroup[]): Slot[] {
  const bySlot = new Map<number, DuePrediction[]>();
  for (const group of groups) {
    if (group.assets.length === 0) continue;
    if (!(group.intervalSec > 0)) throw new RangeError(`a group's interval must be positive, got ${group.intervalSec}`);
    const length = slotLength(group);
    for (let k = Math.ceil(fromSec / length); k * length < toSec; k++) {
      const slotSec = k * length;
      const count = group.assets.length;
      const asset = group.assets[((k % count) + count) % count] as string;
      const due = bySlot.get(slotSec) ?? [];
      due.push({ asset, horizonSec: group.horizonSec, stepSec: group.stepSec, slotSec });
      bySlot.set(slotSec, due);
    }
  }
  return [...bySlot.entries()]
    .sort(([a], [b]) => a - b)
    .map(([slotSec, due]) => ({
      slotSec,
      due: due.sort((a, b) => a.horizonSec - b.horizonSec || a.asset.localeCompare(b.asset)),
    }));
}

/**
 * How long one round of model calls may take at most: a price tick and a predict call, each bounded by
 * the call deadline (a model call waiting behind another adds a third), and storing the answers (a
 * minute). A round's activity, and a slot's whole run, are given this much.
 */
export function slotRoundBoundMs(callTimeoutMs: number): number {
  return 3 * callTimeoutMs + 60_000;
}

/**
 * How long before its instant a slot's run is started (seconds): the hops of starting a workflow and
 * its activity (tens to hundreds of milliseconds on a loaded machine) are taken before the instant, and
 * the activity waits for the instant itself to call. A pacing run starts this long before its window.
 */
export const SLOT_LEAD_SEC = 2;
