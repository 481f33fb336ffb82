import { pythonJsonDumps } from '../../lib/model-runner/python-json.js';

/** Deterministic uniform numbers in [0, 1) (mulberry32), so every run stores the same bytes. */
function uniforms(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const sixDigits = (value: number) => Number(value.toPrecision(6));

/**
 * A 24 h Condor answer (288 five-minute steps) as the benchmark tracker shapes it: per step a mixture of
 * one normal over the log-return, with a drift and a scale that differ from step to step, rounded to six
 * significant digits as condorgame rounds, in Python's `json.dumps` text (~40 KB).
 */
export function densityAnswerJson(steps = 288, seed = 288): string {
  const next = uniforms(seed);
  const densities = Array.from({ length: steps }, () => ({
    type: 'mixture',
    components: [
      {
        density: {
          type: 'builtin',
          name: 'norm',
          params: { loc: sixDigits((next() - 0.5) * 4e-5), scale: sixDigits(0.0013 * (0.8 + 0.4 * next())) },
        },
        weight: 1,
      },
    ],
  }));
  return pythonJsonDumps(densities);
}
