// How a backfill cuts its range: plain arithmetic, imported by the backfill workflow (deterministic).

export interface BackfillSlice {
  /** Unix seconds; the slice covers resolvable_at in [from, to), or [from, to] when it is the last one. */
  from: number;
  to: number;
  last: boolean;
}

/** Consecutive slices of `sliceSeconds` from `from`; the last one ends at `to` and includes it. */
export function backfillSlices(from: number, to: number, sliceSeconds: number, maxSlices = 2_000): BackfillSlice[] {
  if (!Number.isFinite(from) || !Number.isFinite(to)) throw new RangeError('from and to must be finite unix seconds');
  if (!(to > from)) throw new RangeError(`to (${iso(to)}) must be after from (${iso(from)})`);
  if (!(Number.isFinite(sliceSeconds) && sliceSeconds > 0)) {
    throw new RangeError(`the slice length must be a positive number of seconds, got ${sliceSeconds}`);
  }
  const count = Math.ceil((to - from) / sliceSeconds);
  if (count > maxSlices) {
    throw new RangeError(
      `${iso(from)} to ${iso(to)} in slices of ${sliceSeconds} s makes ${count} slices (at most ${maxSlices}): use longer slices`,
    );
  }
  return Array.from({ length: count }, (_, index) => ({
    from: from + index * sliceSeconds,
    to: index === count - 1 ? to : from + (index + 1) * sliceSeconds,
    last: index === count - 1,
  }));
}

/**
 * The instants of a slice that get a leaderboard: multiples of `everySeconds` since the epoch (the same
 * grid whatever the range, so overlapping backfills agree), plus `existing` ones, oldest first, unique.
 */
export function leaderboardInstantsOf(
  slice: BackfillSlice,
  everySeconds: number,
  existing: readonly number[] = [],
): number[] {
  if (!(Number.isFinite(everySeconds) && everySeconds > 0)) {
    throw new RangeError(`the leaderboard interval must be a positive number of seconds, got ${everySeconds}`);
  }
  const inside = (t: number) => t >= slice.from && (slice.last ? t <= slice.to : t < slice.to);
  const instants = new Set<number>();
  for (let t = Math.ceil(slice.from / everySeconds) * everySeconds; inside(t); t += everySeconds) instants.add(t);
  for (const t of existing) if (inside(t)) instants.add(t);
  return [...instants].sort((a, b) => a - b);
}

/** ISO-8601 of unix seconds, for ids and messages. */
export function iso(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? String(seconds) : date.toISOString();
}
