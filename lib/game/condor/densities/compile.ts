// Density specs (the densitypdf format) -> validated, compiled evaluators. Scoring evaluates a
// density once (likelihood) or 256 times (CRPS), so parsing and validation happen once here and the
// result is a closure. Failures come back as a human reason, never as an exception.
import { DISTRIBUTION_NAMES, type Family, families, type Pdf } from './families.js';

export interface DensityLimits {
  /** Mixtures nested deeper than this are rejected (densitypdf's max_depth: 3). */
  maxDepth: number;
  /** Most leaf distributions one spec may hold, nested mixtures expanded (a bound on scoring cost). */
  maxComponents: number;
  /** How far mixture weights may sum from 1. */
  weightTolerance: number;
}

export const DEFAULT_DENSITY_LIMITS: DensityLimits = { maxDepth: 3, maxComponents: 100, weightTolerance: 1e-6 };

export type CompiledDensity = { ok: true; pdf: Pdf } | { ok: false; reason: string };

/** Compiles one spec: `{type: builtin|scipy, name, params}`, `{type: mixture, components}` or `{step, prediction}`. */
export function compileDensity(spec: unknown, limits: Partial<DensityLimits> = {}): CompiledDensity {
  const context: Context = { limits: { ...DEFAULT_DENSITY_LIMITS, ...limits }, leaves: 0 };
  const compiled = compileSpec(spec, 0, context);
  return typeof compiled === 'string' ? { ok: false, reason: compiled } : { ok: true, pdf: compiled };
}

/** pdf(spec, x) in one go; throws an Error with the reason when the spec is invalid. */
export function densityPdf(spec: unknown, x: number): number {
  const compiled = compileDensity(spec);
  if (!compiled.ok) throw new Error(`invalid density: ${compiled.reason}`);
  return compiled.pdf(x);
}

interface Context {
  readonly limits: DensityLimits;
  leaves: number;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short rendering of a bad value for a message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

// A compiled Pdf, or the reason the spec is invalid (a string, so success allocates nothing extra).
function compileSpec(spec: unknown, depth: number, context: Context): Pdf | string {
  if (!isObject(spec)) return `a density must be an object with a "type", got ${describeValue(spec)}`;
  let body = spec;
  if (body.type === undefined && 'prediction' in body) {
    // The game's docs show {"step": s, "prediction": SPEC}; densitypdf rejects it, we unwrap it once.
    if (!isObject(body.prediction) || body.prediction.type === undefined) {
      return `"prediction" must be a density object with a "type", got ${describeValue(body.prediction)}`;
    }
    body = body.prediction;
  }
  const type = body.type;
  if (type === 'builtin' || type === 'scipy') return compileNamed(body, type, context);
  if (type === 'mixture') return compileMixture(body, depth, context);
  if (type === undefined) return 'the density has no "type"';
  return `unknown density type ${describeValue(type)} (expected "builtin", "scipy" or "mixture")`;
}

function compileNamed(spec: Json, type: 'builtin' | 'scipy', context: Context): Pdf | string {
  const name = spec.name;
  const family = typeof name === 'string' ? families.get(name) : undefined;
  if (family === undefined) {
    return `unknown ${type} distribution ${describeValue(name)} (supported: ${DISTRIBUTION_NAMES.join(', ')})`;
  }
  context.leaves++;
  if (context.leaves > context.limits.maxComponents) {
    return `more than ${context.limits.maxComponents} distributions in one density`;
  }
  const params = spec.params;
  if (!isObject(params)) return `${family.name} needs a "params" object, got ${describeValue(params)}`;
  if (type === 'scipy') {
    // scipy.stats raises on an unexpected keyword; densitypdf's builtin path ignores extras.
    for (const key in params) {
      if (key !== 'loc' && key !== 'scale' && !family.shapes.includes(key)) {
        return `scipy.stats.${family.name} has no parameter "${key}" (it takes ${[...family.shapes, 'loc', 'scale'].join(', ')})`;
      }
    }
  }
  // densitypdf's builtin path requires loc and scale; scipy.stats defaults them to 0 and 1.
  const loc = parameter(family, params, 'loc', type === 'scipy' ? 0 : undefined);
  if (typeof loc === 'string') return loc;
  const scale = parameter(family, params, 'scale', type === 'scipy' ? 1 : undefined);
  if (typeof scale === 'string') return scale;
  if (!(scale > 0)) return `${family.name} needs scale > 0, got ${scale}`;
  let shape1 = 0;
  let shape2 = 0;
  for (let i = 0; i < family.shapes.length; i++) {
    const shapeName = family.shapes[i]!;
    const value = parameter(family, params, shapeName, undefined);
    if (typeof value === 'string') return value;
    if (!(value > 0)) return `${family.name} needs ${shapeName} > 0, got ${value}`;
    if (i === 0) shape1 = value;
    else shape2 = value;
  }
  return family.build(loc, scale, shape1, shape2);
}

function parameter(family: Family, params: Json, key: string, fallback: number | undefined): number | string {
  const value = params[key];
  if (value === undefined) {
    if (fallback !== undefined) return fallback;
    return `${family.name} needs parameter "${key}"`;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return `${family.name} parameter "${key}" must be a finite number, got ${describeValue(value)}`;
  }
  return value;
}

function compileMixture(spec: Json, depth: number, context: Context): Pdf | string {
  const { maxDepth, weightTolerance } = context.limits;
  if (depth >= maxDepth) return `mixtures are nested more than ${maxDepth} deep`;
  const components = spec.components;
  if (!Array.isArray(components) || components.length === 0) {
    return `a mixture needs a non-empty "components" list, got ${describeValue(components)}`;
  }
  const count = components.length;
  const pdfs: Pdf[] = new Array(count);
  const weights = new Float64Array(count);
  let weightSum = 0;
  for (let i = 0; i < count; i++) {
    const component: unknown = components[i];
    if (!isObject(component)) return `components[${i}] must be {"density", "weight"}, got ${describeValue(component)}`;
    const weight = component.weight;
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
      return `components[${i}] weight must be a finite number >= 0, got ${describeValue(weight)}`;
    }
    const compiled = compileSpec(component.density, depth + 1, context);
    if (typeof compiled === 'string') return `components[${i}].density: ${compiled}`;
    pdfs[i] = compiled;
    weights[i] = weight;
    weightSum += weight;
  }
  if (!(Math.abs(weightSum - 1) <= weightTolerance)) {
    return `mixture weights must sum to 1 (within ${weightTolerance}), they sum to ${weightSum}`;
  }
  // densitypdf divides by the weight sum; doing the same keeps the two equal when it is 1 - 1e-7.
  if (count === 1) return pdfs[0]!;
  if (count === 2) {
    const [first, second] = pdfs as [Pdf, Pdf];
    const w1 = weights[0]!;
    const w2 = weights[1]!;
    return (x) => (w1 * first(x) + w2 * second(x)) / weightSum;
  }
  return (x) => {
    let total = 0;
    for (let i = 0; i < count; i++) total += weights[i]! * pdfs[i]!(x);
    return total / weightSum;
  };
}
