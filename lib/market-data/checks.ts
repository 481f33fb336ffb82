// What an ingestion run decides about the points a source answered, before anything is stored: which
// minutes are closed, which points are new, which are later values of a stored minute (corrections),
// which jump implausibly from their neighbours (held back or rejected), and how far two sources
// disagree. Pure functions: the activity fetches, these decide, lib/db stores.
import type { PricePoint } from './source.js';

/** A point with the name of the source that answered it. */
export interface SourcedPoint {
  ts: number;
  price: number;
  source: string;
}

export interface CheckBounds {
  /** Largest |ln(price / previous stored price)| a new point may jump before it is held back. */
  maxJump: number;
  /** Largest |ln(a / b)| between two sources for one minute that still counts as agreement. */
  maxDivergence: number;
}

export interface HeldPoint extends SourcedPoint {
  state: 'held' | 'rejected';
  reason: string;
}

export interface Correction {
  ts: number;
  source: string;
  storedPrice: number;
  correctedPrice: number;
}

export interface Divergence {
  /** The largest |ln(a / b)| over the minutes both sources answered. */
  value: number;
  /** The minute where it was largest. */
  ts: number;
  /** Minutes both sources answered. */
  compared: number;
}

export interface Reconciliation {
  /** New points to store, oldest first. */
  store: SourcedPoint[];
  held: HeldPoint[];
  corrections: Correction[];
  /** Null unless a second source answered for at least one common minute. */
  divergence: Divergence | null;
}

/** The points of minutes that have closed by `untilSec` (a minute starting at ts closes at ts + 60). */
export function closedMinutes<T extends PricePoint>(points: readonly T[], untilSec: number): T[] {
  return points.filter((point) => point.ts + 60 <= untilSec);
}

/** Two prices differ when they are not equal to a relative 1e-9 (float noise through JSON is not a correction). */
const differs = (a: number, b: number) => Math.abs(a - b) > 1e-9 * Math.max(Math.abs(a), Math.abs(b));
const logDistance = (a: number, b: number) => Math.abs(Math.log(a / b));
const percent = (logReturn: number) => `${((Math.exp(logReturn) - 1) * 100).toFixed(1)} %`;

/**
 * Decides what to do with `fetched` (closed minutes, oldest first) given the `stored` points around
 * them (oldest first, including the newest one before the fetched range, which is the first new
 * point's neighbour) and, when a second source is configured and answered, its points (`crossCheck`).
 *
 * - A minute already stored with the same price: nothing. With another price: a correction (never
 *   applied here).
 * - A new point within `maxJump` of the previous stored or accepted point: stored.
 * - A new point that jumps further: stored when the second source confirms it (within maxDivergence)
 *   or the next point agrees with it (within maxJump: the market really moved); rejected when the next
 *   point goes back (a bad tick); held until the next run when there is no next point yet.
 */
export function reconcile(input: {
  stored: readonly PricePoint[];
  fetched: readonly SourcedPoint[];
  crossCheck?: readonly PricePoint[] | null;
  bounds: CheckBounds;
}): Reconciliation {
  const { bounds } = input;
  const stored = new Map(input.stored.map((point) => [point.ts, point.price]));
  const second = new Map((input.crossCheck ?? []).map((point) => [point.ts, point.price]));
  const result: Reconciliation = { store: [], held: [], corrections: [], divergence: null };

  const fresh: SourcedPoint[] = [];
  for (const point of input.fetched) {
    const before = stored.get(point.ts);
    if (before === undefined) fresh.push(point);
    else if (differs(before, point.price)) {
      result.corrections.push({ ts: point.ts, source: point.source, storedPrice: before, correctedPrice: point.price });
    }
  }

  // Walk stored and new points in time order; each new point is judged against the last accepted one.
  type Entry = { ts: number; price: number; point?: SourcedPoint };
  const timeline: Entry[] = [
    ...input.stored.map((point) => ({ ts: point.ts, price: point.price })),
    ...fresh.map((point) => ({ ts: point.ts, price: point.price, point })),
  ].sort((a, b) => a.ts - b.ts);
  let previous: number | undefined;
  timeline.forEach((entry, index) => {
    const point = entry.point;
    if (point === undefined) {
      previous = entry.price;
      return;
    }
    const jump = previous === undefined ? 0 : logDistance(point.price, previous);
    if (jump <= bounds.maxJump) {
      result.store.push(point);
      previous = point.price;
      return;
    }
    const confirmation = second.get(point.ts);
    const next = timeline[index + 1];
    if (confirmation !== undefined && logDistance(point.price, confirmation) <= bounds.maxDivergence) {
      result.store.push(point);
      previous = point.price;
    } else if (next !== undefined && logDistance(next.price, point.price) <= bounds.maxJump) {
      result.store.push(point);
      previous = point.price;
    } else if (next !== undefined) {
      result.held.push({
        ...point,
        state: 'rejected',
        reason: `jumped ${percent(jump)} from the previous point and the next point went back`,
      });
    } else {
      result.held.push({
        ...point,
        state: 'held',
        reason:
          `jumped ${percent(jump)} from the previous point (bound ${percent(bounds.maxJump)}); ` +
          'held until a second source confirms it or the next point agrees',
      });
    }
  });

  if (second.size > 0) {
    for (const point of input.fetched) {
      const other = second.get(point.ts);
      if (other === undefined) continue;
      const distance = logDistance(point.price, other);
      const divergence = result.divergence ?? { value: distance, ts: point.ts, compared: 0 };
      divergence.compared++;
      if (distance > divergence.value) Object.assign(divergence, { value: distance, ts: point.ts });
      result.divergence = divergence;
    }
  }
  return result;
}

/**
 * A per-asset bound from one line: `0.1` for every asset, or `BTC=0.05,XAU=0.03,*=0.1` (`*` for the
 * others; without it, assets not named get `fallback`). Throws naming what is wrong.
 */
export function perAssetBound(spec: string, fallback: number, what: string): (asset: string) => number {
  const bounds = new Map<string, number>();
  let others = fallback;
  const parse = (text: string) => {
    const value = Number(text);
    if (!(Number.isFinite(value) && value > 0)) throw new Error(`${what}: "${text}" is not a positive number`);
    return value;
  };
  for (const part of spec
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)) {
    const [asset, value] = part.includes('=') ? part.split('=', 2).map((item) => item.trim()) : ['*', part];
    if (!asset) throw new Error(`${what}: "${part}" has no asset before "="`);
    if (asset === '*') others = parse(value ?? '');
    else bounds.set(asset, parse(value ?? ''));
  }
  return (asset) => bounds.get(asset) ?? others;
}
