import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileDensities, compileDensity, densityPdf } from './compile.js';
import { DISTRIBUTION_NAMES } from './families.js';
import { SpecReader } from './spec-reader.js';

const builtin = (name: string, params: Record<string, unknown>) => ({ type: 'builtin', name, params });
const mixture = (...components: Array<[unknown, number]>) => ({
  type: 'mixture',
  components: components.map(([density, weight]) => ({ density, weight })),
});

function reasonOf(spec: unknown): string {
  const compiled = compileDensity(spec);
  if (compiled.ok) throw new Error(`expected ${JSON.stringify(spec)} to be rejected`);
  return compiled.reason;
}

describe('pdf values derived by hand', () => {
  const e = Math.E;
  const cases: Array<[string, Record<string, number>, number, number, string]> = [
    ['norm', { loc: 0, scale: 1 }, 0, 1 / Math.sqrt(2 * Math.PI), '1/√(2π)'],
    ['norm', { loc: 1, scale: 2 }, 3, Math.exp(-0.5) / (2 * Math.sqrt(2 * Math.PI)), 'z = 1: e^(-1/2) / (2√(2π))'],
    ['expon', { loc: 0, scale: 1 }, 1, 1 / e, 'e^-1'],
    ['expon', { loc: 0, scale: 1 }, -0.1, 0, 'below the support'],
    ['t', { df: 1, loc: 0, scale: 1 }, 0, 1 / Math.PI, 't with 1 df is Cauchy: 1/π'],
    ['t', { df: 2, loc: 0, scale: 1 }, 0, 1 / (2 * Math.SQRT2), 'Γ(3/2) / (√(2π) Γ(1)) = 1/(2√2)'],
    ['cauchy', { loc: 5, scale: 2 }, 5, 1 / (2 * Math.PI), '1/(π scale)'],
    ['laplace', { loc: -1, scale: 0.5 }, 0, Math.exp(-2), 'e^(-|x-loc|/scale) / (2 scale) = e^-2'],
    ['gamma', { a: 2, loc: 0, scale: 1 }, 1, 1 / e, 'y e^-y / Γ(2) at y = 1'],
    ['gamma', { a: 1, loc: 0, scale: 3 }, 0, 1 / 3, 'a = 1 is expon: 1/scale at loc'],
    ['beta', { a: 2, b: 2, loc: 0, scale: 1 }, 0.5, 1.5, '6 y (1 - y) at 1/2 (B(2,2) = 1/6)'],
    ['beta', { a: 1, b: 1, loc: 2, scale: 4 }, 3, 0.25, 'uniform on [2, 6]'],
    ['beta', { a: 2, b: 2, loc: 0, scale: 1 }, 1.5, 0, 'above the support'],
    ['chi', { df: 1, loc: 0, scale: 1 }, 0, Math.sqrt(2 / Math.PI), 'half-normal: √(2/π) at 0'],
    ['chi', { df: 2, loc: 0, scale: 1 }, 1, Math.exp(-0.5), 'chi with 2 df is Rayleigh: y e^(-y²/2)'],
    ['chi2', { df: 2, loc: 0, scale: 1 }, 2, 0.5 / e, 'chi2 with 2 df is expon(scale 2): e^(-y/2)/2'],
    ['rayleigh', { loc: 0, scale: 1 }, 1, Math.exp(-0.5), 'z e^(-z²/2)'],
    ['pareto', { b: 1, loc: 0, scale: 1 }, 2, 0.25, 'b z^(-b-1) = 2^-2'],
    ['pareto', { b: 1, loc: 0, scale: 1 }, 0.5, 0, 'below loc + scale'],
    ['lognorm', { s: 1, loc: 0, scale: 1 }, 1, 1 / Math.sqrt(2 * Math.PI), 'ln 1 = 0: 1/(x s √(2π))'],
    ['weibull_min', { c: 2, loc: 0, scale: 1 }, 1, 2 / e, 'c y^(c-1) e^(-y^c) = 2/e'],
    ['weibull_max', { c: 2, loc: 0, scale: 1 }, -1, 2 / e, 'mirror of weibull_min'],
    ['weibull_max', { c: 2, loc: 0, scale: 1 }, 1, 0, 'above loc'],
    ['f', { dfn: 2, dfd: 2, loc: 0, scale: 1 }, 1, 0.25, 'B(1,1) = 1: (1 + y)^-2'],
  ];
  for (const [name, params, x, expected, derivation] of cases) {
    it(`${name}(${JSON.stringify(params)}) at ${x} = ${derivation}`, () => {
      const value = densityPdf(builtin(name, params), x);
      expect(Math.abs(value - expected)).toBeLessThanOrEqual(1e-14 * Math.max(1, expected));
    });
  }

  it('evaluates a mixture as the weighted sum: 0.25 · N(0,1)(0) + 0.75 · Cauchy(0,1)(0)', () => {
    const spec = mixture(
      [builtin('norm', { loc: 0, scale: 1 }), 0.25],
      [builtin('cauchy', { loc: 0, scale: 1 }), 0.75],
    );
    expect(densityPdf(spec, 0)).toBeCloseTo(0.25 / Math.sqrt(2 * Math.PI) + 0.75 / Math.PI, 14);
  });

  it('evaluates three-way and nested mixtures the same as their flattening', () => {
    const a = builtin('norm', { loc: 0, scale: 1 });
    const b = builtin('laplace', { loc: 1, scale: 2 });
    const c = builtin('t', { df: 4, loc: -1, scale: 0.5 });
    const flat = mixture([a, 0.5], [b, 0.3], [c, 0.2]);
    const nested = mixture([a, 0.5], [mixture([b, 0.6], [c, 0.4]), 0.5]);
    for (const x of [-3, -0.2, 0, 0.7, 4]) expect(densityPdf(nested, x)).toBeCloseTo(densityPdf(flat, x), 14);
  });
});

describe('spec forms', () => {
  const normal = builtin('norm', { loc: 0.001, scale: 0.01 });

  it('accepts the {"step", "prediction"} wrapper as the spec it wraps', () => {
    expect(densityPdf({ step: 300, prediction: normal }, 0.002)).toBe(densityPdf(normal, 0.002));
  });

  it('ignores a top-level "step" key and extra builtin parameters, as densitypdf does', () => {
    const extra = { ...normal, step: 60, params: { loc: 0.001, scale: 0.01, mu: 7 } };
    expect(densityPdf(extra, 0.002)).toBe(densityPdf(normal, 0.002));
  });

  it('gives "scipy" specs scipy.stats defaults (loc 0, scale 1) but rejects keywords scipy would refuse', () => {
    expect(densityPdf({ type: 'scipy', name: 'norm', params: {} }, 0)).toBeCloseTo(1 / Math.sqrt(2 * Math.PI), 15);
    expect(densityPdf({ type: 'scipy', name: 't', params: { df: 1 } }, 0)).toBeCloseTo(1 / Math.PI, 15);
    expect(reasonOf({ type: 'scipy', name: 'norm', params: { mu: 0 } })).toBe(
      'scipy.stats.norm has no parameter "mu" (it takes loc, scale)',
    );
  });

  it('accepts mixtures nested 3 deep and rejects 4', () => {
    const three = mixture([mixture([mixture([normal, 1]), 1]), 1]);
    expect(compileDensity(three).ok).toBe(true);
    expect(reasonOf(mixture([three, 1]))).toBe(
      'components[0].density: components[0].density: components[0].density: mixtures are nested more than 3 deep',
    );
  });

  it('supports every listed family under both "builtin" and "scipy"', () => {
    expect(DISTRIBUTION_NAMES).toHaveLength(15);
    const shapes: Record<string, Record<string, number>> = {
      lognorm: { s: 0.5 },
      t: { df: 3 },
      weibull_min: { c: 1.5 },
      weibull_max: { c: 1.5 },
      gamma: { a: 2 },
      beta: { a: 2, b: 3 },
      chi: { df: 3 },
      chi2: { df: 3 },
      pareto: { b: 2 },
      f: { dfn: 3, dfd: 5 },
    };
    for (const name of DISTRIBUTION_NAMES) {
      for (const type of ['builtin', 'scipy']) {
        const compiled = compileDensity({ type, name, params: { loc: 0, scale: 1, ...shapes[name] } });
        expect(compiled.ok, `${type} ${name}`).toBe(true);
      }
    }
  });
});

describe('invalid specs give a reason, never an exception', () => {
  const cases: Array<[string, unknown, string]> = [
    ['not an object', 'norm', 'a density must be an object with a "type", got "norm"'],
    ['null', null, 'a density must be an object with a "type", got null'],
    ['a list', [1, 2], 'the density has no "type"'],
    ['params as a list', { type: 'builtin', name: 'norm', params: [0, 1] }, 'norm needs parameter "loc"'],
    ['no type', { name: 'norm' }, 'the density has no "type"'],
    [
      'densitypdf\'s "statistics" type',
      { type: 'statistics', name: 'normal', params: { mu: 0, sigma: 1 } },
      'unknown density type "statistics" (expected "builtin", "scipy" or "mixture")',
    ],
    [
      'unknown name',
      builtin('normal', { loc: 0, scale: 1 }),
      'unknown builtin distribution "normal" (supported: norm, ',
    ],
    ['scale 0', builtin('norm', { loc: 0, scale: 0 }), 'norm needs scale > 0, got 0'],
    ['negative scale', builtin('laplace', { loc: 0, scale: -1 }), 'laplace needs scale > 0, got -1'],
    ['missing scale (builtin)', builtin('norm', { loc: 0 }), 'norm needs parameter "scale"'],
    ['missing shape', builtin('t', { loc: 0, scale: 1 }), 't needs parameter "df"'],
    ['shape 0', builtin('gamma', { a: 0, loc: 0, scale: 1 }), 'gamma needs a > 0, got 0'],
    ['NaN', builtin('norm', { loc: Number.NaN, scale: 1 }), 'norm parameter "loc" must be a finite number, got NaN'],
    [
      'Infinity',
      builtin('norm', { loc: 0, scale: Number.POSITIVE_INFINITY }),
      'norm parameter "scale" must be a finite number, got Infinity',
    ],
    ['string', builtin('norm', { loc: '0', scale: 1 }), 'norm parameter "loc" must be a finite number, got "0"'],
    ['no params', { type: 'builtin', name: 'norm' }, 'norm needs a "params" object, got nothing'],
    [
      'empty mixture',
      { type: 'mixture', components: [] },
      'a mixture needs a non-empty "components" list, got a list of 0',
    ],
    [
      'negative weight',
      mixture([builtin('norm', { loc: 0, scale: 1 }), 1.5], [builtin('norm', { loc: 0, scale: 1 }), -0.5]),
      'components[1] weight must be a finite number >= 0, got -0.5',
    ],
    [
      'weights summing to 0.9',
      mixture([builtin('norm', { loc: 0, scale: 1 }), 0.5], [builtin('norm', { loc: 0, scale: 1 }), 0.4]),
      'mixture weights must sum to 1 (within 0.000001), they sum to 0.9',
    ],
    [
      'bad nested component',
      mixture([builtin('norm', { loc: 0, scale: -2 }), 1]),
      'components[0].density: norm needs scale > 0, got -2',
    ],
    [
      'wrapper around nothing',
      { step: 60, prediction: 3 },
      '"prediction" must be a density object with a "type", got 3',
    ],
  ];
  for (const [what, spec, reason] of cases) {
    it(`${what}`, () => {
      expect(reasonOf(spec)).toContain(reason);
    });
  }

  it('accepts weights that sum to 1 within 1e-6 and rejects 2e-6 off', () => {
    const n = builtin('norm', { loc: 0, scale: 1 });
    expect(compileDensity(mixture([n, 0.5], [n, 0.5 - 9e-7])).ok).toBe(true);
    expect(compileDensity(mixture([n, 0.5], [n, 0.5 - 2e-6])).ok).toBe(false);
  });

  it('caps the number of leaf distributions', () => {
    const n = builtin('norm', { loc: 0, scale: 1 });
    const many = mixture(...Array.from({ length: 5 }, (): [unknown, number] => [n, 0.2]));
    expect(compileDensity(many, { maxComponents: 4 })).toEqual({
      ok: false,
      reason: 'components[4].density: more than 4 distributions in one density',
    });
  });
});

/**
 * ∫ pdf over its support, through x = origin + direction · scale · tan(u), u in [0, π/2): the
 * substitution maps any tail onto a finite interval, and integrating each side of the origin
 * separately keeps support edges (jumps) at the ends of an interval, where the midpoint rule is fine.
 */
function integrateHalfLine(pdf: (x: number) => number, origin: number, direction: 1 | -1, scale: number): number {
  const n = 20_000;
  const h = Math.PI / 2 / n;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const u = (i + 0.5) * h;
    const secant = 1 / Math.cos(u);
    sum += pdf(origin + direction * scale * Math.tan(u)) * scale * secant * secant;
  }
  return sum * h;
}

describe('normalisation (property)', () => {
  const positive = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
  // Shapes >= 1 where a smaller one makes the density infinite at the support edge (not integrable numerically).
  const shapeRanges: Record<string, Record<string, [number, number]>> = {
    norm: {},
    lognorm: { s: [0.1, 1.5] },
    expon: {},
    t: { df: [1.5, 40] },
    weibull_min: { c: [1, 5] },
    weibull_max: { c: [1, 5] },
    gamma: { a: [1, 30] },
    beta: { a: [1, 8], b: [1, 8] },
    chi: { df: [1, 30] },
    chi2: { df: [2, 30] },
    rayleigh: {},
    pareto: { b: [1.5, 10] },
    cauchy: {},
    laplace: {},
    f: { dfn: [2, 30], dfd: [5, 40] },
  };
  const specs = fc.constantFrom(...DISTRIBUTION_NAMES).chain((name) =>
    fc.record({
      name: fc.constant(name),
      loc: fc.double({ min: -5, max: 5, noNaN: true }),
      scale: positive(0.05, 20),
      shapes: fc.record(
        Object.fromEntries(
          Object.entries(shapeRanges[name] ?? {}).map(([key, [min, max]]) => [key, positive(min, max)]),
        ),
      ),
    }),
  );

  it('every family integrates to 1 for random valid parameters', () => {
    fc.assert(
      fc.property(specs, ({ name, loc, scale, shapes }) => {
        const pdf = densityPdfFunction(builtin(name, { loc, scale, ...shapes }));
        // Beta lives on [loc, loc + scale] and pareto on [loc + scale, ∞): start at their lower edge.
        const origin = name === 'pareto' ? loc + scale : loc;
        const total =
          name === 'beta'
            ? integrateInterval(pdf, loc, loc + scale)
            : integrateHalfLine(pdf, origin, 1, scale) + integrateHalfLine(pdf, origin, -1, scale);
        return Math.abs(total - 1) < 2e-3;
      }),
      { numRuns: 150 },
    );
  });

  it('a random valid mixture integrates to 1', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: -1, max: 1, noNaN: true }), positive(0.1, 2), positive(0.01, 1)), {
          minLength: 1,
          maxLength: 4,
        }),
        (parts) => {
          const total = parts.reduce((sum, [, , w]) => sum + w, 0);
          const spec = mixture(
            ...parts.map(([loc, scale, w]): [unknown, number] => [builtin('t', { df: 5, loc, scale }), w / total]),
          );
          const pdf = densityPdfFunction(spec);
          return Math.abs(integrateHalfLine(pdf, 0, 1, 1) + integrateHalfLine(pdf, 0, -1, 1) - 1) < 2e-3;
        },
      ),
      { numRuns: 40 },
    );
  });
});

function densityPdfFunction(spec: unknown): (x: number) => number {
  const compiled = compileDensity(spec);
  if (!compiled.ok) throw new Error(compiled.reason);
  return compiled.pdf;
}

function integrateInterval(pdf: (x: number) => number, from: number, to: number): number {
  const n = 20_000;
  const h = (to - from) / n;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += pdf(from + (i + 0.5) * h);
  return sum * h;
}

describe('the three ways of reading a spec agree', () => {
  const leafSpec = fc.oneof(
    fc
      .record({ loc: fc.double({ min: -1, max: 1, noNaN: true }), scale: fc.double({ min: 0.1, max: 2, noNaN: true }) })
      .map((p) => builtin('norm', p)),
    fc
      .record({
        df: fc.double({ min: 1, max: 20, noNaN: true }),
        loc: fc.double({ min: -1, max: 1, noNaN: true }),
        scale: fc.double({ min: 0.1, max: 2, noNaN: true }),
      })
      .map((p) => builtin('t', p)),
    fc
      .record({
        a: fc.double({ min: 1, max: 5, noNaN: true }),
        loc: fc.double({ min: -2, max: 0, noNaN: true }),
        scale: fc.double({ min: 0.5, max: 3, noNaN: true }),
      })
      .map((p) => builtin('gamma', p)),
  );
  const spec = fc.oneof(
    leafSpec,
    fc
      .array(fc.tuple(leafSpec, fc.double({ min: 0.01, max: 1, noNaN: true })), { minLength: 1, maxLength: 3 })
      .map((parts) => {
        const total = parts.reduce((sum, [, w]) => sum + w, 0);
        return mixture(...parts.map(([density, w]): [unknown, number] => [density, w / total]));
      }),
  );

  it('compiled list pdf, compiled list fill, and one-pass evaluation give the same values', () => {
    const reader = new SpecReader();
    fc.assert(
      fc.property(
        fc.array(spec, { minLength: 1, maxLength: 5 }),
        fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 1, maxLength: 8 }),
        (specs, points) => {
          const compiled = compileDensities(specs);
          if (!compiled.ok) return false;
          const xs = Float64Array.from(points);
          const filled = new Float64Array(xs.length);
          return specs.every((s, d) => {
            compiled.densities.fill(d, xs, filled);
            return points.every((x, i) => {
              const value = compiled.densities.pdf(d, x);
              return value === filled[i] && value === reader.evaluate(s, x) && reader.problem === undefined;
            });
          });
        },
      ),
    );
  });

  it('reports the same reason whichever way a bad spec is read', () => {
    const reader = new SpecReader();
    const bad = mixture(
      [builtin('norm', { loc: 0, scale: 1 }), 0.5],
      [builtin('t', { df: -1, loc: 0, scale: 1 }), 0.5],
    );
    const reason = 'components[1].density: t needs df > 0, got -1';
    expect(reader.check(bad)).toBe(reason);
    expect(reader.evaluate(bad, 0)).toBeNaN();
    expect(reader.problem).toBe(reason);
    expect(compileDensities([builtin('norm', { loc: 0, scale: 1 }), bad])).toEqual({ ok: false, index: 1, reason });
  });

  it('keeps a non-transient list intact after later compiles; a transient one is reused', () => {
    const first = compileDensities([builtin('norm', { loc: 0, scale: 1 })]);
    const transient = compileDensities([builtin('norm', { loc: 0, scale: 1 })], {}, { transient: true });
    if (!first.ok || !transient.ok) throw new Error('expected valid specs');
    const before = transient.densities.pdf(0, 0);
    compileDensities([builtin('norm', { loc: 5, scale: 1 })], {}, { transient: true });
    compileDensities([builtin('norm', { loc: 5, scale: 1 })]);
    expect(first.densities.pdf(0, 0)).toBe(before);
    // Documented behaviour: the transient list now reads the newer compile's buffer.
    expect(transient.densities.pdf(0, 0)).not.toBe(before);
  });

  it('grows the buffer for mixtures with more leaves than densities', () => {
    const wide = mixture(
      ...Array.from({ length: 9 }, (_, i): [unknown, number] => [builtin('norm', { loc: i, scale: 1 }), 1 / 9]),
    );
    const compiled = compileDensities([wide, wide, builtin('cauchy', { loc: 0, scale: 1 })]);
    if (!compiled.ok) throw new Error(compiled.reason);
    const expected = Array.from(
      { length: 9 },
      (_, i) => Math.exp(-0.5 * (4 - i) ** 2) / Math.sqrt(2 * Math.PI) / 9,
    ).reduce((a, b) => a + b);
    expect(compiled.densities.pdf(1, 4)).toBeCloseTo(expected, 14);
    expect(compiled.densities.pdf(2, 0)).toBeCloseTo(1 / Math.PI, 15);
  });
});
