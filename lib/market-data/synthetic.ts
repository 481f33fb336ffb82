import { checkRequest, type PricePoint, type PriceSource, PriceSourceError } from './source.js';

export interface SyntheticAsset {
  /** The price at the origin (2024-01-01T00:00Z); prices wander from it. */
  start: number;
  /** Standard deviation of the one-minute log-return, e.g. 0.0006 for 0.06 %. */
  sigmaPerMinute: number;
}

/** Typical one-minute volatilities of the game's assets, and plausible price levels. */
export const syntheticAssets: Record<string, SyntheticAsset> = {
  BTC: { start: 95_000, sigmaPerMinute: 0.0006 },
  ETH: { start: 3_300, sigmaPerMinute: 0.0008 },
  SOL: { start: 180, sigmaPerMinute: 0.0012 },
  XAU: { start: 2_650, sigmaPerMinute: 0.0002 },
  XAUT: { start: 2_650, sigmaPerMinute: 0.0002 },
};
const otherAsset: SyntheticAsset = { start: 100, sigmaPerMinute: 0.001 };

export interface SyntheticOptions {
  seed?: number | string;
  /** Overrides or additions to `syntheticAssets`. */
  assets?: Record<string, SyntheticAsset>;
  /** Unix seconds now; no price is given after it, so a live demo sees the market unfold (default: the real clock). */
  clock?: () => number;
}

const ORIGIN_MINUTE = 1_704_067_200 / 60;
// Minutes per block: block ends are a random walk from the origin, and inside a block a Brownian bridge
// of depth 16 places any minute with 16 draws, so a price never depends on which range was asked.
const BLOCK_LEVELS = 16;
const BLOCK = 2 ** BLOCK_LEVELS;
const MAX_POINTS = 2_000_000;

function fmix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return fmix32(h);
}

/** A standard normal that depends only on (key, a, b): counter-based, no state. */
function normal(key: number, a: number, b: number): number {
  const h = fmix32(key ^ fmix32(fmix32(a + 0x9e3779b9) + Math.imul(b, 0x27d4eb2f)));
  const u1 = (fmix32(h ^ 0x68bc21eb) + 0.5) / 2 ** 32;
  const u2 = (fmix32(h ^ 0x02e5be93) + 0.5) / 2 ** 32;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Block increments draw from their own stream, apart from the bridge draws inside blocks. */
const blockKey = (key: number): number => fmix32(key ^ 0x5bd1e995);

/**
 * Seeded synthetic prices: geometric Brownian motion per asset with a realistic one-minute volatility,
 * one point per whole minute. The same (seed, asset, minute) always gives the same price.
 */
export class SyntheticSource implements PriceSource {
  readonly name = 'synthetic';
  private readonly seed: number;
  private readonly assets: Record<string, SyntheticAsset>;
  private readonly clock: () => number;
  private readonly blockStarts = new Map<string, number>();

  constructor(options: SyntheticOptions = {}) {
    this.seed = hashString(String(options.seed ?? 0));
    this.assets = { ...syntheticAssets, ...options.assets };
    for (const [asset, params] of Object.entries(this.assets)) {
      if (!(params.start > 0 && params.sigmaPerMinute >= 0 && Number.isFinite(params.start * params.sigmaPerMinute))) {
        throw new PriceSourceError(this.name, `asset ${asset} needs a positive start price and a sigma >= 0`);
      }
    }
    this.clock = options.clock ?? (() => Date.now() / 1000);
  }

  async fetch(asset: string, fromSec: number, toSec: number): Promise<PricePoint[]> {
    checkRequest(this.name, asset, fromSec, toSec);
    const first = Math.ceil(fromSec / 60);
    const last = Math.floor(Math.min(toSec, this.clock()) / 60);
    if (last - first + 1 > MAX_POINTS) {
      throw new PriceSourceError(this.name, `${last - first + 1} minutes asked at once; ask at most ${MAX_POINTS}`);
    }
    const points: PricePoint[] = [];
    for (let minute = first; minute <= last; minute += 1) {
      points.push({ ts: minute * 60, price: this.priceAt(asset, minute) });
    }
    return points;
  }

  /** The price of the minute starting at unix minute `minute`. */
  priceAt(asset: string, minute: number): number {
    const params = this.assets[asset] ?? otherAsset;
    const key = fmix32(this.seed ^ hashString(asset));
    return params.start * Math.exp(params.sigmaPerMinute * this.walk(asset, key, minute - ORIGIN_MINUTE));
  }

  /** Standard Brownian motion (unit variance per minute) at `k` minutes from the origin. */
  private walk(asset: string, key: number, k: number): number {
    const block = Math.floor(k / BLOCK);
    const offset = k - block * BLOCK;
    const start = this.blockStart(asset, key, block);
    const end = start + Math.sqrt(BLOCK) * normal(blockKey(key), block, 0);
    let low = 0;
    let high = BLOCK;
    let wLow = start;
    let wHigh = end;
    while (offset !== low) {
      if (offset === high) return wHigh;
      const middle = (low + high) / 2;
      const wMiddle = (wLow + wHigh) / 2 + Math.sqrt((high - low) / 4) * normal(key, block, middle);
      if (offset < middle) {
        high = middle;
        wHigh = wMiddle;
      } else {
        low = middle;
        wLow = wMiddle;
      }
    }
    return wLow;
  }

  /** The walk at the start of a block: the sum of the block increments from the origin. */
  private blockStart(asset: string, key: number, block: number): number {
    const cacheKey = `${asset}\u0000${block}`;
    const cached = this.blockStarts.get(cacheKey);
    if (cached !== undefined) return cached;
    let sum = 0;
    if (block > 0) for (let b = 0; b < block; b += 1) sum += Math.sqrt(BLOCK) * normal(blockKey(key), b, 0);
    else for (let b = block; b < 0; b += 1) sum -= Math.sqrt(BLOCK) * normal(blockKey(key), b, 0);
    this.blockStarts.set(cacheKey, sum);
    return sum;
  }
}
