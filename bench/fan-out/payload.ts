import { pythonJsonDumps } from '../../lib/model-runner/python-json.js';

/** What the Condor benchmark tracker answers for a 24 h horizon at 5-minute steps, as Python writes it. */
export function predictionJson(steps = 288): string {
  const densities = Array.from({ length: steps }, (_, k) => ({
    type: 'mixture',
    components: [
      {
        density: {
          type: 'builtin',
          name: 'norm',
          params: { loc: 1.0123456789e-6 * (k + 1), scale: 0.0011234567890123 * Math.sqrt(5) + k * 1e-9 },
        },
        weight: 1,
      },
    ],
  }));
  return pythonJsonDumps(densities);
}
