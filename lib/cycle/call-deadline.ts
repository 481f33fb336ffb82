// Whether a call deadline fits the game's slot grid. A model is asked at every slot of every
// prediction group; one still busy with a slot's call when its next slot comes gets that slot as
// TIMEOUT at once (nothing waits on a slow model). So an honest model, one answering within the
// deadline, never loses a slot only if the deadline is shorter than the smallest gap between two
// slot instants of the grid. Slots of several groups at the same instant are one round; its calls
// to a model follow each other within the deadline.

/** A prediction group as far as its slots go: its assets take turns, one every interval / assets. */
export type SlotGroup = { assets: readonly string[] } & ({ intervalSec: number } | { interval: number });

export interface CallDeadlineCheck {
  ok: boolean;
  deadlineMs: number;
  /** The smallest gap between two slot instants (ms), null when no group has assets. */
  slotGapMs: number | null;
  /** In words, for the coordinator's log (and the reason to refuse to start when not ok). */
  message: string;
}

function intervalOf(group: SlotGroup): number {
  return 'intervalSec' in group ? group.intervalSec : group.interval;
}

function gcd(a: number, b: number): number {
  while (b > 0) [a, b] = [b, a % b];
  return a;
}

/**
 * The smallest gap (ms) between two distinct slot instants of the groups' grid, or null when no group
 * has assets. Group g's slots are k * interval_g / n_g; the union of such progressions through 0 has
 * as its smallest gap the gcd of their steps (exact: worked out in whole fractions of a millisecond).
 */
export function smallestSlotGapMs(groups: readonly SlotGroup[]): number | null {
  const used = groups.filter((group) => group.assets.length > 0);
  for (const group of used) {
    const interval = intervalOf(group);
    if (!(interval > 0) || !Number.isFinite(interval)) {
      throw new RangeError(`a prediction group's interval must be a positive number of seconds, got ${interval}`);
    }
  }
  if (used.length === 0) return null;
  // Steps interval_ms / n as whole numbers of 1/d ms, d the lcm of the asset counts.
  const d = used.reduce((lcm, group) => (lcm / gcd(lcm, group.assets.length)) * group.assets.length, 1);
  const steps = used.map((group) => (Math.round(intervalOf(group) * 1000) * d) / group.assets.length);
  // Two progressions a·Z and b·Z come gcd(a, b) apart at their closest (Bézout); a third one does
  // not bring them closer to each other, so the grid's smallest gap is the smallest pairwise gcd.
  let smallest = Math.min(...steps);
  for (let i = 0; i < steps.length; i++) {
    for (let j = i + 1; j < steps.length; j++)
      smallest = Math.min(smallest, gcd(steps[i] as number, steps[j] as number));
  }
  return smallest / d;
}

/**
 * Says whether a call deadline is shorter than the smallest gap between two slots of the same model,
 * as it must be for no honest model to lose a slot to its own previous call.
 */
export function checkCallDeadline(groups: readonly SlotGroup[], deadlineMs: number): CallDeadlineCheck {
  if (!(deadlineMs > 0) || !Number.isFinite(deadlineMs)) {
    throw new RangeError(`the call deadline must be a positive number of ms, got ${deadlineMs}`);
  }
  const slotGapMs = smallestSlotGapMs(groups);
  const deadline = seconds(deadlineMs);
  if (slotGapMs === null) {
    return { ok: true, deadlineMs, slotGapMs, message: 'no prediction group has assets: there is no slot to miss' };
  }
  const gap = seconds(slotGapMs);
  if (deadlineMs < slotGapMs) {
    return {
      ok: true,
      deadlineMs,
      slotGapMs,
      message: `the call deadline (${deadline}) is shorter than the smallest gap between two prediction slots (${gap})`,
    };
  }
  const grid = groups
    .filter((group) => group.assets.length > 0)
    .map((group) => `every ${seconds(intervalOf(group) * 1000)} over ${group.assets.length} asset(s)`)
    .join(', ');
  return {
    ok: false,
    deadlineMs,
    slotGapMs,
    message:
      `the call deadline (${deadline}) is not shorter than the smallest gap between two prediction slots of a ` +
      `model (${gap}; groups ${grid}): a model still busy with one slot's call would lose the next slot. ` +
      `Set a deadline below ${gap}, or space the slots further apart (longer intervals or fewer assets per group).`,
  };
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
