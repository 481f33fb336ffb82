// The supported distribution families, with scipy.stats' parameter names and conventions: every
// family takes `loc` and `scale` (x is standardised as (x - loc) / scale and the density divided by
// scale) plus the shape parameters listed. The simple formulas follow densitypdf's arithmetic so the
// two agree to the last few bits; the ones with gamma-function constants work in logs, which stays
// finite for large shape parameters where Python's math.gamma overflows.
import { logBeta, logGamma, xLog1pY, xLogY } from './special-functions.js';

/** A compiled density: x -> pdf(x). */
export type Pdf = (x: number) => number;

export interface Family {
  /** The scipy.stats name. */
  readonly name: string;
  /** Shape parameter names, in scipy's order (each must be > 0). */
  readonly shapes: readonly string[];
  /** The density for validated parameters (finite, scale > 0, shapes > 0). */
  build(loc: number, scale: number, shape1: number, shape2: number): Pdf;
}

const SQRT_TWO_PI = Math.sqrt(2 * Math.PI);
const LN2 = Math.LN2;

function family(name: string, shapes: readonly string[], build: Family['build']): Family {
  return { name, shapes, build };
}

const FAMILIES: readonly Family[] = [
  family('norm', [], (loc, scale) => {
    const constant = 1 / (scale * SQRT_TWO_PI);
    return (x) => {
      const z = (x - loc) / scale;
      return constant * Math.exp(-0.5 * z * z);
    };
  }),
  family('lognorm', ['s'], (loc, scale, s) => {
    const twoSSquared = 2 * s * s;
    return (x) => {
      if (x <= loc) return 0;
      const z = Math.log((x - loc) / scale);
      return (1 / ((x - loc) * s * SQRT_TWO_PI)) * Math.exp(-(z * z) / twoSSquared);
    };
  }),
  family('expon', [], (loc, scale) => (x) => (x < loc ? 0 : (1 / scale) * Math.exp(-((x - loc) / scale)))),
  family('t', ['df'], (loc, scale, df) => {
    // Γ((ν+1)/2) / (√(νπ) Γ(ν/2)) = 1 / (√ν B(ν/2, 1/2)).
    const constant = Math.exp(-0.5 * Math.log(df) - logBeta(df / 2, 0.5)) / scale;
    const exponent = -(df + 1) / 2;
    return (x) => {
      const y = (x - loc) / scale;
      return constant * Math.exp(exponent * Math.log1p((y * y) / df));
    };
  }),
  family('weibull_min', ['c'], (loc, scale, c) => (x) => (x < loc ? 0 : weibull(c, scale, (x - loc) / scale))),
  family('weibull_max', ['c'], (loc, scale, c) => (x) => (x > loc ? 0 : weibull(c, scale, (loc - x) / scale))),
  family('gamma', ['a'], (loc, scale, a) => {
    const logConstant = -logGamma(a);
    return (x) => {
      if (x < loc) return 0;
      const y = (x - loc) / scale;
      return Math.exp(logConstant + xLogY(a - 1, y) - y) / scale;
    };
  }),
  family('beta', ['a', 'b'], (loc, scale, a, b) => {
    const logConstant = -logBeta(a, b);
    return (x) => {
      if (x < loc || x > loc + scale) return 0;
      const y = (x - loc) / scale;
      return Math.exp(logConstant + xLogY(a - 1, y) + xLog1pY(b - 1, -y)) / scale;
    };
  }),
  family('chi', ['df'], (loc, scale, df) => {
    const logConstant = (1 - 0.5 * df) * LN2 - logGamma(0.5 * df);
    return (x) => {
      if (x < loc) return 0;
      const y = (x - loc) / scale;
      return Math.exp(logConstant + xLogY(df - 1, y) - (y * y) / 2) / scale;
    };
  }),
  family('chi2', ['df'], (loc, scale, df) => {
    const logConstant = -0.5 * df * LN2 - logGamma(0.5 * df);
    return (x) => {
      if (x < loc) return 0;
      const y = (x - loc) / scale;
      return Math.exp(logConstant + xLogY(0.5 * df - 1, y) - 0.5 * y) / scale;
    };
  }),
  family('rayleigh', [], (loc, scale) => {
    const scaleSquared = scale * scale;
    return (x) => {
      if (x < loc) return 0;
      const z = x - loc;
      return (z / scaleSquared) * Math.exp((-0.5 * (z * z)) / scaleSquared);
    };
  }),
  family(
    'pareto',
    ['b'],
    (loc, scale, b) => (x) => (x < loc + scale ? 0 : (1 / scale) * b * ((x - loc) / scale) ** (-b - 1)),
  ),
  family('cauchy', [], (loc, scale) => (x) => {
    const z = (x - loc) / scale;
    return 1 / (Math.PI * scale * (1 + z * z));
  }),
  family('laplace', [], (loc, scale) => (x) => (1 / (2 * scale)) * Math.exp(-Math.abs(x - loc) / scale)),
  family('f', ['dfn', 'dfd'], (loc, scale, dfn, dfd) => {
    const ratio = dfn / dfd;
    const logConstant = -logBeta(dfn / 2, dfd / 2) + (dfn / 2) * Math.log(ratio);
    const tailExponent = (dfn + dfd) / 2;
    return (x) => {
      if (x < loc) return 0;
      const y = (x - loc) / scale;
      return Math.exp(logConstant + xLogY(dfn / 2 - 1, y) - tailExponent * Math.log1p(ratio * y)) / scale;
    };
  }),
];

/** Standard Weibull density c y^(c-1) exp(-y^c) / scale at y >= 0; 0 where y^c overflows (its true limit). */
function weibull(c: number, scale: number, y: number): number {
  const yToC = y ** c;
  if (yToC === Number.POSITIVE_INFINITY) return 0;
  return (c / scale) * y ** (c - 1) * Math.exp(-yToC);
}

export const families: ReadonlyMap<string, Family> = new Map(FAMILIES.map((f) => [f.name, f]));

/** The supported names, for messages and docs. */
export const DISTRIBUTION_NAMES: readonly string[] = FAMILIES.map((f) => f.name);
