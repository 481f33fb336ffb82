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

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * The shortest time between two slots a model is asked for (every model is asked at every slot of
 * every group), in seconds: each group's slot length, and for two groups whose grids interleave, the
 * greatest common divisor of their slot lengths (how close two of their instants can come). Null when
 * no group has an asset. Computed in whole milliseconds over `interval * 1000 / assets` as a fraction.
 */
export function shortestSlotGapSec(groups: readonly PredictionGroup[]): number | null {
  // Slot length as a fraction numerator / denominator of milliseconds.
  const lengths = groups
    .filter((group) => group.assets.length > 0)
    .map((group) => ({ numerator: Math.round(group.intervalSec * 1000), denominator: group.assets.length }));
  if (lengths.length === 0) return null;
  let shortest = Number.POSITIVE_INFINITY;
  for (const [i, a] of lengths.entries()) {
    shortest = Math.min(shortest, a.numerator / a.denominator);
    for (const b of lengths.slice(i + 1)) {
      const sameGrid = a.numerator * b.denominator === b.numerator * a.denominator;
      if (sameGrid) continue; // the same instants: a model gets both at once, in one slot
      // gcd(p/q, r/s) = gcd(p*s, r*q) / (q*s)
      shortest = Math.min(
        shortest,
        gcd(a.numerator * b.denominator, b.numerator * a.denominator) / (a.denominator * b.denominator),
      );
    }
  }
  return shortest / 1000;
}

/**
 * Why the call deadline does not fit the slot grid, or null when it does. A model answers one call at a
 * time, so a deadline as long as the gap between two of its slots would let one slow answer run into
 * the next slot, which then finds the model busy.
 */
export function callDeadlineProblem(deadlineMs: number, groups: readonly PredictionGroup[]): string | null {
  const gapSec = shortestSlotGapSec(groups);
  if (gapSec === null || deadlineMs < gapSec * 1000) return null;
  return (
    `the call deadline (${deadlineMs / 1000} s) must be shorter than the shortest gap between two slots of ` +
    `the same model (${gapSec} s with the active prediction configs): set PREDICT_TIMEOUT_SECONDS below ${gapSec}`
  );
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
