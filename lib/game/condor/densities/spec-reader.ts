// Reading density specs (the densitypdf format): one walk that validates a spec and hands each of
// its leaves (family, parameters, precomputed constant, weight) to the caller's purpose: check only,
// evaluate at one x, or append to a compiled list. Nested mixtures flatten into leaf weights (the
// product of each level's weight / weight sum, which is how densitypdf normalises). Problems come
// back as a human reason (a string), never as an exception.
import {
  DISTRIBUTION_NAMES,
  type Family,
  evaluateLeaf as importedEvaluateLeaf,
  families as importedFamilies,
  normConstant as importedNormConstant,
  normPdf as importedNormPdf,
} from './families.js';

// Module-local handles: tsx's module interop turns every use of an imported binding into a getter
// call, which shows up in profiles of loops over thousands of specs.
const families = importedFamilies;
const evaluateLeaf = importedEvaluateLeaf;
const normPdf = importedNormPdf;
const normConstant = importedNormConstant;
const NORM = families.get('norm')!.kind;

export interface DensityLimits {
  /** Mixtures nested deeper than this are rejected (densitypdf's max_depth: 3). */
  maxDepth: number;
  /** Most leaf distributions one spec may hold, nested mixtures expanded (a bound on scoring cost). */
  maxComponents: number;
  /** How far mixture weights may sum from 1. */
  weightTolerance: number;
}

export const DEFAULT_DENSITY_LIMITS: DensityLimits = { maxDepth: 3, maxComponents: 100, weightTolerance: 1e-6 };

export function resolveDensityLimits(limits: Partial<DensityLimits> = {}): DensityLimits {
  return { ...DEFAULT_DENSITY_LIMITS, ...limits };
}

/** Values stored per leaf in a LeafBuffer: kind, loc, scale, shape1, shape2, constant, weight. */
export const LEAF_STRIDE = 7;

/** Where compiled leaves go: a growable Float64Array (far cheaper than pushing onto plain arrays). */
export interface LeafBuffer {
  values: Float64Array;
  /** Leaves written so far. */
  count: number;
  /** Index in `values` of leaf 0. */
  readonly base: number;
}

type Json = Record<string, unknown>;

// Arrays count as objects here: reading a property of one is safe and yields undefined, which the
// checks below turn into a reason; skipping Array.isArray on every level is measurably faster.
function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null;
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && value - value === 0;
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

function badParameter(family: Family, key: string, value: unknown): string {
  if (value === undefined) return `${family.name} needs parameter "${key}"`;
  return `${family.name} parameter "${key}" must be a finite number, got ${describeValue(value)}`;
}

// Predictions repeat one family for many steps: comparing a short string beats hashing it into the Map.
let lastName = '';
let lastFamily: Family | undefined;
function lookupFamily(name: string): Family | undefined {
  if (name !== lastName) {
    lastFamily = families.get(name);
    lastName = name;
  }
  return lastFamily;
}

const CHECK = 0;
const EVALUATE = 1;
const APPEND = 2;

export class SpecReader {
  readonly limits: DensityLimits;
  /** Why the last spec evaluated was invalid (undefined when it was valid). */
  problem: string | undefined;
  private mode = CHECK;
  private x = 0;
  private total = 0;
  private target: LeafBuffer | undefined;
  /** Leaves of the spec being read (for maxComponents). */
  private leaves = 0;

  constructor(limits: DensityLimits = DEFAULT_DENSITY_LIMITS) {
    this.limits = limits;
  }

  /** undefined when the spec is valid, else the reason it is not. */
  check(spec: unknown): string | undefined {
    this.mode = CHECK;
    this.leaves = 0;
    return this.spec(spec, 0, 1);
  }

  /**
   * pdf(spec, x); NaN when the spec is invalid, with the reason in `problem`. (A number-only return
   * keeps V8 from boxing every result, as a number-or-string return would.)
   */
  evaluate(spec: unknown, x: number): number {
    this.mode = EVALUATE;
    this.x = x;
    this.total = 0;
    this.leaves = 0;
    this.problem = this.spec(spec, 0, 1);
    return this.problem === undefined ? this.total : Number.NaN;
  }

  /** Appends the spec's leaves to `target` (nothing on failure); undefined or the reason. */
  append(spec: unknown, target: LeafBuffer): string | undefined {
    this.mode = APPEND;
    this.target = target;
    this.leaves = 0;
    const mark = target.count;
    const problem = this.spec(spec, 0, 1);
    if (problem !== undefined) target.count = mark;
    return problem;
  }

  private leaf(
    kind: number,
    loc: number,
    scale: number,
    s1: number,
    s2: number,
    constant: number,
    weight: number,
  ): void {
    if (this.mode === EVALUATE) {
      this.total += weight * evaluateLeaf(kind, this.x, loc, scale, s1, s2, constant);
    } else if (this.mode === APPEND) {
      const target = this.target!;
      const needed = target.base + (target.count + 1) * LEAF_STRIDE;
      if (target.values.length < needed) {
        const grown = new Float64Array(Math.max(needed, target.values.length * 2));
        grown.set(target.values);
        target.values = grown;
      }
      const values = target.values;
      const o = target.base + target.count * LEAF_STRIDE;
      values[o] = kind;
      values[o + 1] = loc;
      values[o + 2] = scale;
      values[o + 3] = s1;
      values[o + 4] = s2;
      values[o + 5] = constant;
      values[o + 6] = weight;
      target.count++;
    }
  }

  private spec(spec: unknown, depth: number, weight: number): string | undefined {
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
    if (type === 'builtin' || type === 'scipy') return this.named(body, type, weight);
    if (type === 'mixture') return this.mixture(body, depth, weight);
    if (type === undefined) return 'the density has no "type"';
    return `unknown density type ${describeValue(type)} (expected "builtin", "scipy" or "mixture")`;
  }

  private named(spec: Json, type: 'builtin' | 'scipy', weight: number): string | undefined {
    const name = spec.name;
    const family = typeof name === 'string' ? lookupFamily(name) : undefined;
    if (family === undefined) {
      return `unknown ${type} distribution ${describeValue(name)} (supported: ${DISTRIBUTION_NAMES.join(', ')})`;
    }
    if (++this.leaves > this.limits.maxComponents) {
      return `more than ${this.limits.maxComponents} distributions in one density`;
    }
    const params = spec.params;
    if (!isObject(params)) return `${family.name} needs a "params" object, got ${describeValue(params)}`;
    let loc = params.loc;
    let scale = params.scale;
    if (type === 'scipy') {
      // scipy.stats raises on an unexpected keyword (densitypdf's builtin path ignores extras) and
      // defaults loc and scale to 0 and 1 (the builtin path requires them).
      for (const key in params) {
        if (key !== 'loc' && key !== 'scale' && !family.shapes.includes(key)) {
          return `scipy.stats.${family.name} has no parameter "${key}" (it takes ${[...family.shapes, 'loc', 'scale'].join(', ')})`;
        }
      }
      if (loc === undefined) loc = 0;
      if (scale === undefined) scale = 1;
    }
    if (!isFiniteNumber(loc)) return badParameter(family, 'loc', loc);
    if (!isFiniteNumber(scale)) return badParameter(family, 'scale', scale);
    if (!(scale > 0)) return `${family.name} needs scale > 0, got ${scale}`;
    let shape1 = 0;
    let shape2 = 0;
    const shapes = family.shapes;
    for (let i = 0; i < shapes.length; i++) {
      const shapeName = shapes[i]!;
      const value = params[shapeName];
      if (!isFiniteNumber(value)) return badParameter(family, shapeName, value);
      if (!(value > 0)) return `${family.name} needs ${shapeName} > 0, got ${value}`;
      if (i === 0) shape1 = value;
      else shape2 = value;
    }
    if (this.mode === CHECK) return undefined;
    if (family.kind === NORM) {
      // Most densities are normals: their constant and value inline (the generic call sites see
      // every family and are slow).
      const constant = normConstant(scale);
      if (this.mode === EVALUATE) {
        this.total += weight * normPdf(this.x, loc, scale, constant);
      } else {
        this.leaf(NORM, loc, scale, 0, 0, constant, weight);
      }
      return undefined;
    }
    this.leaf(family.kind, loc, scale, shape1, shape2, family.constant(loc, scale, shape1, shape2), weight);
    return undefined;
  }

  private mixture(spec: Json, depth: number, weight: number): string | undefined {
    const { maxDepth, weightTolerance } = this.limits;
    if (depth >= maxDepth) return `mixtures are nested more than ${maxDepth} deep`;
    const components = spec.components;
    if (!Array.isArray(components) || components.length === 0) {
      return `a mixture needs a non-empty "components" list, got ${describeValue(components)}`;
    }
    if (components.length === 1) {
      // The benchmark tracker's shape: one component, whose weight must then be 1 on its own;
      // its leaves keep the weight they arrived with ((w · pdf) / w is pdf).
      const component: unknown = components[0];
      const w = isObject(component) ? component.weight : undefined;
      if (isFiniteNumber(w) && Math.abs(w - 1) <= weightTolerance) {
        const problem = this.spec((component as Json).density, depth + 1, weight);
        return problem === undefined ? undefined : `components[0].density: ${problem}`;
      }
    }
    // Weights first: each leaf's weight is relative to the sum (densitypdf divides by it).
    let weightSum = 0;
    for (let i = 0; i < components.length; i++) {
      const component: unknown = components[i];
      if (!isObject(component))
        return `components[${i}] must be {"density", "weight"}, got ${describeValue(component)}`;
      const w = component.weight;
      if (!isFiniteNumber(w) || w < 0)
        return `components[${i}] weight must be a finite number >= 0, got ${describeValue(w)}`;
      weightSum += w;
    }
    if (!(Math.abs(weightSum - 1) <= weightTolerance)) {
      return `mixture weights must sum to 1 (within ${weightTolerance}), they sum to ${weightSum}`;
    }
    for (let i = 0; i < components.length; i++) {
      const component = components[i] as Json;
      const problem = this.spec(component.density, depth + 1, weight * ((component.weight as number) / weightSum));
      if (problem !== undefined) return `components[${i}].density: ${problem}`;
    }
    return undefined;
  }
}
