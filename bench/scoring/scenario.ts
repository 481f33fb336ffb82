// The scoring benchmark's input: two days of BTC minute closes (a seeded random walk) and 24-hour
// predictions of 288 five-minute steps shaped like the benchmark tracker's answers, parsed from JSON
// as they would come out of the database (separate objects per density).
import type { TickData } from '../../lib/game/prices.js';
import { mulberry32 as randomSource } from '../../test/support/mulberry32.js';

export interface BenchPrediction {
  asset: string;
  horizon: number;
  step: number;
  status: string;
  distributions: unknown[];
  performed_at: number;
  resolvable_at: number;
}

export interface Scenario {
  prices: TickData;
  /** Densities of the log-return (likelihood). */
  likelihood: BenchPrediction[];
  /** Densities of the price change (CRPS). */
  crps: BenchPrediction[];
}

const START = 1_750_000_000;
const HORIZON = 86_400;
const STEP = 300;

export function buildScenario(count: number, seed = 1): Scenario {
  const random = randomSource(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const points: Array<[number, number]> = [];
  let price = 65_000;
  for (let minute = 0; minute <= 2 * 1440; minute++) {
    price *= Math.exp(0.0008 * gaussian());
    points.push([START + minute * 60, price]);
  }
  const build = (scaleOf: () => number): BenchPrediction[] =>
    Array.from({ length: count }, () => {
      const performedAt = START + random() * 86_400;
      const densities = Array.from({ length: HORIZON / STEP }, () => ({
        type: 'mixture',
        components: [{ density: { type: 'builtin', name: 'norm', params: { loc: 0, scale: scaleOf() } }, weight: 1 }],
      }));
      const prediction: BenchPrediction = {
        asset: 'BTC',
        horizon: HORIZON,
        step: STEP,
        status: 'SUCCESS',
        distributions: densities,
        performed_at: performedAt,
        resolvable_at: performedAt + HORIZON,
      };
      return JSON.parse(JSON.stringify(prediction)) as BenchPrediction;
    });
  // Five-minute log-return sd of 0.0008 per minute is about 0.0018; the price change about 115 USD.
  return {
    prices: { BTC: points },
    likelihood: build(() => 0.0018 * (0.8 + 0.4 * random())),
    crps: build(() => 115 * (0.8 + 0.4 * random())),
  };
}
