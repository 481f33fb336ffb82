import { pythonJsonDumps } from '../../lib/model-runner/python-json.js';
import { mulberry32 as uniforms } from '../../test/support/mulberry32.js';

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
