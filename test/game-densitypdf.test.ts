// Our densities against the real thing: PyPI densitypdf (what upstream scoring evaluates) and
// scipy.stats (whose conventions the specs use), on a few hundred random specs and points.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileDensity, DISTRIBUTION_NAMES, logGamma } from '../lib/game/condor/densities/index.js';
import { runReference } from '../lib/game/condor/python/reference.js';
import { toolsPython } from './support/tools.js';

/** Python's answer; non-finite values arrive as the strings "Infinity", "-Infinity", "NaN". */
interface PdfAnswer {
  densitypdf: number | string | null;
  densitypdf_error: string | null;
  scipy: number | string | null;
}

const decode = (value: number | string): number => (typeof value === 'number' ? value : Number(value));

// Shape ranges where densitypdf's math.gamma does not overflow and scipy is defined.
const SHAPES: Record<string, Record<string, [number, number]>> = {
  lognorm: { s: [0.05, 3] },
  t: { df: [0.5, 60] },
  weibull_min: { c: [0.3, 6] },
  weibull_max: { c: [0.3, 6] },
  gamma: { a: [0.3, 40] },
  beta: { a: [0.3, 12], b: [0.3, 12] },
  chi: { df: [0.3, 60] },
  chi2: { df: [0.3, 60] },
  pareto: { b: [0.3, 8] },
  f: { dfn: [0.5, 40], dfd: [0.5, 40] },
};

const double = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true });

const leaf = fc.constantFrom(...DISTRIBUTION_NAMES).chain((name) =>
  fc.record({
    type: fc.constantFrom('builtin', 'scipy'),
    name: fc.constant(name),
    params: fc
      .record({
        loc: double(-2, 2),
        scale: double(0.01, 10),
        shapes: fc.record(
          Object.fromEntries(Object.entries(SHAPES[name] ?? {}).map(([key, [min, max]]) => [key, double(min, max)])),
        ),
      })
      .map(({ loc, scale, shapes }) => ({ loc, scale, ...shapes })),
  }),
);

type Spec = Record<string, unknown>;
const mixtureOf = (inner: fc.Arbitrary<Spec>): fc.Arbitrary<Spec> =>
  fc.array(fc.tuple(inner, double(0.05, 1)), { minLength: 1, maxLength: 3 }).map((parts) => {
    const total = parts.reduce((sum, [, weight]) => sum + weight, 0);
    return { type: 'mixture', components: parts.map(([density, weight]) => ({ density, weight: weight / total })) };
  });
const spec: fc.Arbitrary<Spec> = fc.oneof(
  { arbitrary: leaf as fc.Arbitrary<Spec>, weight: 6 },
  { arbitrary: mixtureOf(leaf as fc.Arbitrary<Spec>), weight: 3 },
  { arbitrary: mixtureOf(mixtureOf(leaf as fc.Arbitrary<Spec>)), weight: 1 },
);

/** A point near the density's bulk: loc + scale · u for one leaf (both sides of support edges). */
function pointFor(s: Spec, u: number): number {
  let leafSpec = s;
  while (leafSpec.type === 'mixture') {
    leafSpec = ((leafSpec.components as Array<{ density: Spec }>)[0] as { density: Spec }).density;
  }
  const params = leafSpec.params as { loc: number; scale: number };
  return params.loc + params.scale * u;
}

function agree(ours: number, theirs: number): boolean {
  if (!Number.isFinite(ours) || !Number.isFinite(theirs)) return Object.is(ours, theirs);
  return (
    Math.abs(ours - theirs) <= 1e-9 * Math.max(Math.abs(ours), Math.abs(theirs)) || Math.abs(ours - theirs) < 1e-300
  );
}

describe('densities agree with densitypdf and scipy.stats', () => {
  // fast-check favours edge values, so x often lands exactly on a support edge (u = 0): good coverage.
  const cases = fc
    .sample(fc.tuple(spec, double(-4, 6)), { seed: 20_250_101, numRuns: 400 })
    .map(([s, u]) => ({ spec: s, x: pointFor(s, u) }));
  let answers: PdfAnswer[];

  beforeAll(async () => {
    answers = await runReference<PdfAnswer[]>(toolsPython(), { mode: 'pdf', cases });
  });

  it('to 1e-9 relative on 400 random specs and points (densitypdf for all, scipy for single distributions)', () => {
    const counts = { densitypdf: 0, scipy: 0, densitypdfCrashes: 0 };
    const disagreements: string[] = [];
    cases.forEach((testCase, i) => {
      const compiled = compileDensity(testCase.spec);
      if (!compiled.ok) throw new Error(`case ${i} was rejected: ${compiled.reason}`);
      const ours = compiled.pdf(testCase.x);
      const answer = answers[i]!;
      const where = JSON.stringify(testCase);
      if (answer.densitypdf !== null) {
        counts.densitypdf++;
        const theirs = decode(answer.densitypdf);
        if (!agree(ours, theirs)) disagreements.push(`densitypdf ${where}: ours ${ours}, theirs ${theirs}`);
      } else {
        // densitypdf raises where a density is infinite at its support edge (0.0 ** negative in Python);
        // we return Infinity there, as scipy does, and the scorer turns it into a failure with a reason.
        counts.densitypdfCrashes++;
        if (!answer.densitypdf_error?.startsWith('ZeroDivisionError') || ours !== Number.POSITIVE_INFINITY) {
          disagreements.push(`densitypdf raised ${answer.densitypdf_error} on ${where}; ours ${ours}`);
        }
      }
      if (answer.scipy !== null) {
        counts.scipy++;
        const theirs = decode(answer.scipy);
        if (!agree(ours, theirs)) disagreements.push(`scipy ${where}: ours ${ours}, theirs ${theirs}`);
      }
    });
    expect(disagreements).toEqual([]);
    expect(counts.densitypdf).toBeGreaterThan(350);
    expect(counts.scipy).toBeGreaterThan(150);
  });
});

describe('logGamma agrees with Python math.lgamma', () => {
  it('to 1e-12 (relative above 1, absolute below) on 300 points from 1e-3 to 1e7', async () => {
    const xs = fc.sample(fc.double({ min: -3, max: 7, noNaN: true }), { seed: 7, numRuns: 300 }).map((e) => 10 ** e);
    const theirs = await runReference<number[]>(toolsPython(), { mode: 'lgamma', xs });
    const off = xs.filter((x, i) => Math.abs(logGamma(x) - theirs[i]!) > 1e-12 * Math.max(1, Math.abs(theirs[i]!)));
    expect(off).toEqual([]);
  });
});
