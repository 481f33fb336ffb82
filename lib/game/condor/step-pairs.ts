// Which two prices each density of a prediction is scored on (docs/game.md#likelihood step 3): walk from the last
// density to the first, starting at t = resolvable_at; density k gets (closest(t), closest(t - step))
// and t then drops by one step. A step whose two closest points are the same point is skipped.
import { bisectLeftBelow, closestFromInsertion, type PriceSeries } from '../prices.js';

// Module-local handles: tsx's module interop makes each use of an imported binding a getter call,
// which costs more than the search itself in this per-step loop.
const bisectBelow = bisectLeftBelow;
const closestFrom = closestFromInsertion;

let sharedPairs = new Int32Array(0);

/**
 * For each density k, the indexes of its current and previous price in the series:
 * `pairs[2k]` and `pairs[2k + 1]`, both -1 when the step is skipped. `transient` (scorers): the
 * result is a view of a shared buffer, valid until the next transient call, which saves an
 * off-heap allocation per prediction.
 */
export function stepPairs(
  prices: PriceSeries,
  resolvableAt: number,
  step: number,
  count: number,
  transient = false,
): Int32Array {
  let pairs: Int32Array;
  if (transient) {
    if (sharedPairs.length < 2 * count) sharedPairs = new Int32Array(2 * count);
    pairs = sharedPairs.subarray(0, 2 * count).fill(-1);
  } else {
    pairs = new Int32Array(2 * count).fill(-1);
  }
  const times = prices.times;
  if (times.length === 0) return pairs;
  let t = resolvableAt;
  // Times only decrease, so each search starts from the previous insertion point.
  let insertion = bisectBelow(times, t, times.length);
  let current = closestFrom(times, t, insertion);
  // With regularly spaced prices each step moves the insertion point by the same amount: try that first.
  let jump = 0;
  for (let k = count - 1; k >= 0; k--) {
    const previousTime = t - step;
    const guess = insertion - jump;
    const next =
      jump > 0 && guess >= 0 && times[guess]! >= previousTime && (guess === 0 || times[guess - 1]! < previousTime)
        ? guess
        : bisectBelow(times, previousTime, insertion);
    jump = insertion - next;
    insertion = next;
    const previous = closestFrom(times, previousTime, insertion);
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
