// Which two prices each density of a prediction is scored on (GAME.md §3 step 3): walk from the last
// density to the first, starting at t = resolvable_at; density k gets (closest(t), closest(t - step))
// and t then drops by one step. A step whose two closest points are the same point is skipped.
import { bisectLeftBelow, closestFromInsertion, type PriceSeries } from '../prices.js';

/**
 * For each density k, the indexes of its current and previous price in the series:
 * `pairs[2k]` and `pairs[2k + 1]`, both -1 when the step is skipped.
 */
export function stepPairs(prices: PriceSeries, resolvableAt: number, step: number, count: number): Int32Array {
  const pairs = new Int32Array(2 * count).fill(-1);
  const times = prices.times;
  if (times.length === 0) return pairs;
  let t = resolvableAt;
  // Times only decrease, so each search starts from the previous insertion point.
  let insertion = bisectLeftBelow(times, t, times.length);
  let current = closestFromInsertion(times, t, insertion);
  for (let k = count - 1; k >= 0; k--) {
    const previousTime = t - step;
    insertion = bisectLeftBelow(times, previousTime, insertion);
    const previous = closestFromInsertion(times, previousTime, insertion);
    if (current !== previous) {
      pairs[2 * k] = current;
      pairs[2 * k + 1] = previous;
    }
    // Upstream decrements t rather than computing resolvable_at - j·step; the same here keeps floats equal.
    t = previousTime;
    current = previous;
  }
  return pairs;
}
