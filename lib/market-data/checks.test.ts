import { describe, expect, it } from 'vitest';
import { closedMinutes, perAssetBound, reconcile } from './checks.js';

const T = 1_750_000_020; // a whole minute
const bounds = { maxJump: 0.05, maxDivergence: 0.01 };
const points = (prices: number[], from = T, source = 'pricedb') =>
  prices.map((price, i) => ({ ts: from + i * 60, price, source }));
const plain = (sourced: Array<{ ts: number; price: number }>) => sourced.map(({ ts, price }) => ({ ts, price }));

describe('closedMinutes', () => {
  it('keeps the minutes that closed by then, never the one in progress', () => {
    const fetched = points([1, 2, 3]);
    expect(closedMinutes(fetched, T + 150).map((p) => p.ts)).toEqual([T, T + 60]);
    expect(closedMinutes(fetched, T + 180).map((p) => p.ts)).toEqual([T, T + 60, T + 120]);
  });
});

describe('reconcile', () => {
  it('stores new minutes, ignores equal ones and reports a changed one as a correction', () => {
    const stored = plain(points([100, 101]));
    const result = reconcile({ stored, fetched: points([100, 101.5, 102, 103]), bounds });
    expect(result.store.map((p) => p.ts)).toEqual([T + 120, T + 180]);
    expect(result.corrections).toEqual([{ ts: T + 60, source: 'pricedb', storedPrice: 101, correctedPrice: 101.5 }]);
    expect(result.held).toEqual([]);
    expect(result.divergence).toBeNull();
  });

  it('fills a gap between stored points, judged against its stored neighbour', () => {
    const stored = plain([...points([100]), ...points([102], T + 120)]);
    const result = reconcile({ stored, fetched: points([100, 101, 102]), bounds });
    expect(result.store).toEqual([{ ts: T + 60, price: 101, source: 'pricedb' }]);
  });

  it('holds a jump with no next point, rejects it when the next goes back, keeps it when the next agrees', () => {
    const stored = plain(points([100]));
    const held = reconcile({ stored, fetched: points([100, 1000], T), bounds });
    expect(held.store).toEqual([]);
    expect(held.held).toMatchObject([{ ts: T + 60, price: 1000, state: 'held' }]);
    expect(held.held[0]!.reason).toMatch(/jumped 900\.0 % from the previous point/);

    const rejected = reconcile({ stored, fetched: points([100, 1000, 100.5]), bounds });
    expect(rejected.held).toMatchObject([{ ts: T + 60, state: 'rejected' }]);
    expect(rejected.store.map((p) => p.price)).toEqual([100.5]);

    const moved = reconcile({ stored, fetched: points([100, 130, 131]), bounds });
    expect(moved.held).toEqual([]);
    expect(moved.store.map((p) => p.price)).toEqual([130, 131]);
  });

  it('stores a jump a second source confirms, and measures the largest divergence', () => {
    const stored = plain(points([100]));
    const result = reconcile({
      stored,
      fetched: points([100, 130]),
      crossCheck: plain(points([100.5, 130.1])),
      bounds,
    });
    expect(result.store.map((p) => p.price)).toEqual([130]);
    expect(result.divergence).toEqual({ value: Math.abs(Math.log(100 / 100.5)), ts: T, compared: 2 });
  });

  it('treats float noise as equal, not as a correction', () => {
    const stored = plain(points([0.1 + 0.2]));
    expect(reconcile({ stored, fetched: points([0.3]), bounds }).corrections).toEqual([]);
  });
});

describe('perAssetBound', () => {
  it('reads one bound for all, or per asset with * for the others', () => {
    expect(perAssetBound('0.2', 0.1, 'X')('BTC')).toBe(0.2);
    const bound = perAssetBound('BTC=0.05, XAU=0.03,*=0.1', 0.5, 'X');
    expect([bound('BTC'), bound('XAU'), bound('SOL')]).toEqual([0.05, 0.03, 0.1]);
    expect(perAssetBound('BTC=0.05', 0.5, 'X')('ETH')).toBe(0.5);
    expect(() => perAssetBound('BTC=abc', 0.1, 'PRICE_MAX_JUMP')).toThrow(
      'PRICE_MAX_JUMP: "abc" is not a positive number',
    );
    expect(() => perAssetBound('=0.1', 0.1, 'PRICE_MAX_JUMP')).toThrow(/no asset before "="/);
  });
});
