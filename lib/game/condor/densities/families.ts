// The supported distribution families, with scipy.stats' parameter names and conventions: every
// family takes `loc` and `scale` (x is standardised as (x - loc) / scale and the density divided by
// scale) plus the shape parameters listed. The simple formulas follow densitypdf's arithmetic so the
// two agree to the last few bits; the ones with gamma-function constants work in logs, which stays
// finite for large shape parameters where Python's math.gamma overflows.
//
// A family is a number (its kind) plus two functions: `constant` runs once per compiled leaf, and
// `evaluateLeaf` dispatches on the kind. Compiled densities are flat arrays of leaves rather than
// closures: a 24-hour prediction compiles 288 densities, and allocating a closure tree for each
// cost more than scoring it.
import { xLog1pY as importedXLog1pY, xLogY as importedXLogY, logBeta, logGamma } from './special-functions.js';

// Module-local handles for the per-evaluation helpers: tsx's module interop turns every use of an
// imported binding into a getter call.
const xLogY = importedXLogY;
const xLog1pY = importedXLog1pY;

/** A density as a function: x -> pdf(x). */
export type Pdf = (x: number) => number;

export interface Family {
  /** The scipy.stats name. */
  readonly name: string;
  /** Its index in FAMILIES, used by evaluateLeaf. */
  readonly kind: number;
  /** Shape parameter names, in scipy's order (each must be > 0). */
  readonly shapes: readonly string[];
  /** The per-leaf constant evaluateLeaf needs, for validated parameters (finite, scale > 0, shapes > 0). */
  constant(loc: number, scale: number, shape1: number, shape2: number): number;
}

const SQRT_TWO_PI = Math.sqrt(2 * Math.PI);
const LN2 = Math.LN2;
const none = () => 0;

// Order matters: the index of each entry is its kind in evaluateLeaf's switch.
const DEFINITIONS: ReadonlyArray<Omit<Family, 'kind'>> = [
  { name: 'norm', shapes: [], constant: (_loc, scale) => normConstant(scale) },
  { name: 'lognorm', shapes: ['s'], constant: none },
  { name: 'expon', shapes: [], constant: none },
  // Γ((ν+1)/2) / (√(νπ) Γ(ν/2)) = 1 / (√ν B(ν/2, 1/2)), divided by scale.
  {
    name: 't',
    shapes: ['df'],
    constant: (_loc, scale, df) => Math.exp(-0.5 * Math.log(df) - logBeta(df / 2, 0.5)) / scale,
  },
  { name: 'weibull_min', shapes: ['c'], constant: none },
  { name: 'weibull_max', shapes: ['c'], constant: none },
  { name: 'gamma', shapes: ['a'], constant: (_loc, _scale, a) => -logGamma(a) },
  { name: 'beta', shapes: ['a', 'b'], constant: (_loc, _scale, a, b) => -logBeta(a, b) },
  { name: 'chi', shapes: ['df'], constant: (_loc, _scale, df) => (1 - 0.5 * df) * LN2 - logGamma(0.5 * df) },
  { name: 'chi2', shapes: ['df'], constant: (_loc, _scale, df) => -0.5 * df * LN2 - logGamma(0.5 * df) },
  { name: 'rayleigh', shapes: [], constant: none },
  { name: 'pareto', shapes: ['b'], constant: none },
  { name: 'cauchy', shapes: [], constant: none },
  { name: 'laplace', shapes: [], constant: none },
  {
    name: 'f',
    shapes: ['dfn', 'dfd'],
    constant: (_loc, _scale, dfn, dfd) => -logBeta(dfn / 2, dfd / 2) + (dfn / 2) * Math.log(dfn / dfd),
  },
];

export const FAMILIES: readonly Family[] = DEFINITIONS.map((definition, kind) => ({ ...definition, kind }));

export const families: ReadonlyMap<string, Family> = new Map(FAMILIES.map((f) => [f.name, f]));

/** The supported names, for messages and docs. */
export const DISTRIBUTION_NAMES: readonly string[] = FAMILIES.map((f) => f.name);

/**
 * The normal density with its constant 1 / (scale √(2π)) precomputed, in densitypdf's arithmetic.
 * Most scored densities are normals, so hot loops call this directly (small enough for V8 to
 * inline) instead of going through evaluateLeaf's dispatch.
 */
export function normPdf(x: number, loc: number, scale: number, constant: number): number {
  const z = (x - loc) / scale;
  return constant * Math.exp(-0.5 * z * z);
}

/** The constant of normPdf. */
export function normConstant(scale: number): number {
  return 1 / (scale * SQRT_TWO_PI);
}

/** pdf at x of the family `kind` with these parameters and its precomputed constant. */
export function evaluateLeaf(
  kind: number,
  x: number,
  loc: number,
  scale: number,
  s1: number,
  s2: number,
  constant: number,
): number {
  switch (kind) {
    case 0:
      return normPdf(x, loc, scale, constant);
    case 1: {
      if (x <= loc) return 0;
      const z = Math.log((x - loc) / scale);
      return (1 / ((x - loc) * s1 * SQRT_TWO_PI)) * Math.exp(-(z * z) / (2 * s1 * s1));
    }
    case 2:
      return x < loc ? 0 : (1 / scale) * Math.exp(-((x - loc) / scale));
    case 3: {
      const y = (x - loc) / scale;
      return constant * Math.exp((-(s1 + 1) / 2) * Math.log1p((y * y) / s1));
    }
    case 4:
      return x < loc ? 0 : weibull(s1, scale, (x - loc) / scale);
    case 5:
      return x > loc ? 0 : weibull(s1, scale, (loc - x) / scale);
    case 6: {
      if (x < loc) return 0;
      const y = (x - loc) / scale;
      return Math.exp(constant + xLogY(s1 - 1, y) - y) / scale;
    }
    case 7: {
      if (x < loc || x > loc + scale) return 0;
      const y = (x - loc) / scale;
      return Math.exp(constant + xLogY(s1 - 1, y) + xLog1pY(s2 - 1, -y)) / scale;
    }
    case 8: {
      if (x < loc) return 0;
      const y = (x - loc) / scale;
      return Math.exp(constant + xLogY(s1 - 1, y) - (y * y) / 2) / scale;
    }
    case 9: {
      if (x < loc) return 0;
      const y = (x - loc) / scale;
      return Math.exp(constant + xLogY(0.5 * s1 - 1, y) - 0.5 * y) / scale;
    }
    case 10: {
      if (x < loc) return 0;
      const z = x - loc;
      const scaleSquared = scale * scale;
      return (z / scaleSquared) * Math.exp((-0.5 * (z * z)) / scaleSquared);
    }
    case 11:
      return x < loc + scale ? 0 : (1 / scale) * s1 * ((x - loc) / scale) ** (-s1 - 1);
    case 12: {
      const z = (x - loc) / scale;
      return 1 / (Math.PI * scale * (1 + z * z));
    }
    case 13:
      return (1 / (2 * scale)) * Math.exp(-Math.abs(x - loc) / scale);
    case 14: {
      if (x < loc) return 0;
      const y = (x - loc) / scale;
      return Math.exp(constant + xLogY(s1 / 2 - 1, y) - ((s1 + s2) / 2) * Math.log1p((s1 / s2) * y)) / scale;
    }
    default:
      return Number.NaN;
  }
}

/** Standard Weibull density c y^(c-1) exp(-y^c) / scale at y >= 0; 0 where y^c overflows (its true limit). */
function weibull(c: number, scale: number, y: number): number {
  const yToC = y ** c;
  if (yToC === Number.POSITIVE_INFINITY) return 0;
  return (c / scale) * y ** (c - 1) * Math.exp(-yToC);
}
