import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { condor, getScorer, PriceSeries, type ScorablePrediction, scoreEach } from '../game/index.js';
import { ScoreThreads } from './pool.js';

const normal = (loc: number, scale: number) => ({ type: 'builtin', name: 'norm', params: { loc, scale } });

// A day of one-minute prices and 24 h Condor predictions (288 five-minute steps), one in twenty failed.
const day = 86_400;
const prices = PriceSeries.fromPoints(
  Array.from({ length: 2 * 1440 + 1 }, (_, i): [number, number] => [i * 60, 100 * Math.exp(0.001 * Math.sin(i / 7))]),
  'BTC',
);
const predictions: ScorablePrediction[] = Array.from({ length: 400 }, (_, i) => ({
  asset: i % 50 === 7 ? 'DOGE' : 'BTC',
  horizon: day,
  step: 300,
  status: i % 20 === 3 ? 'FAILED' : 'SUCCESS',
  distributions: Array.from({ length: 288 }, (_, k) => normal(0, 0.001 + (i + k) * 1e-6)),
  resolvableAt: day + i * 60,
}));
const series = new Map([['BTC', prices]]);

describe('ScoreThreads', () => {
  const pool = new ScoreThreads({ threads: 2, chunkSize: 16 });
  afterAll(() => pool.close());

  it('scores exactly as on the main thread, in order, reporting progress piece by piece', async () => {
    const progress: number[] = [];
    const threaded = await pool.score(
      { game: 'condor', predictions, series },
      { onProgress: (scored, total) => progress.push(scored / total) },
    );
    const direct = scoreEach(getScorer(condor), predictions, (asset) => series.get(asset));
    expect(threaded).toEqual(direct);
    expect(threaded.filter((result) => result.success).length).toBeGreaterThan(300);
    expect(progress).toHaveLength(Math.ceil(predictions.length / 16));
    expect(progress.at(-1)).toBe(1);
  });

  it('leaves the event loop free while it scores: timers keep firing, where scoring in line blocks them', async () => {
    const countTicks = async (work: () => Promise<unknown>) => {
      let ticks = 0;
      const timer = setInterval(() => ticks++, 1);
      await new Promise((r) => setTimeout(r, 5)); // let the interval start
      ticks = 0;
      await work();
      clearInterval(timer);
      return ticks;
    };
    const inline = await countTicks(async () => scoreEach(getScorer(condor), predictions, (a) => series.get(a)));
    const threaded = await countTicks(() => pool.score({ game: 'condor', predictions, series }));
    expect(inline).toBe(0);
    expect(threaded).toBeGreaterThan(0);
  });

  it('fails the job with the scorer error, and stops queued pieces when cancelled', async () => {
    await expect(pool.score({ game: 'condor', scorer: 'nope', predictions, series })).rejects.toThrow(/scorer|nope/);
    const controller = new AbortController();
    const job = pool.score({ game: 'condor', predictions, series }, { signal: controller.signal });
    controller.abort();
    await expect(job).rejects.toThrow(/cancelled/);
    // The pool still works afterwards.
    expect(await pool.score({ game: 'condor', predictions: predictions.slice(0, 3), series })).toHaveLength(3);
  });

  it('holds the process only while it scores: a process that scored once ends by itself', () => {
    const script = resolve(import.meta.dirname, '..', '..', 'test', 'fixtures', 'score-once.ts');
    const output = execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
    expect(output).toContain('scores: 1');
  });
});
