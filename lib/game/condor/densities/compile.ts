// Compiled densities: specs read once (validated, constants precomputed) into a flat buffer of
// leaves, then evaluated as often as needed (CRPS evaluates each density at 256 grid points).
import { families, evaluateLeaf as importedEvaluateLeaf, normPdf as importedNormPdf, type Pdf } from './families.js';
import { type DensityLimits, LEAF_STRIDE, type LeafBuffer, resolveDensityLimits, SpecReader } from './spec-reader.js';

// Module-local handles (see spec-reader.ts).
const evaluateLeaf = importedEvaluateLeaf;
const normPdf = importedNormPdf;
const NORM = families.get('norm')!.kind;

/**
 * A list of compiled densities (one prediction's), evaluated by index. One Float64Array holds it
 * all: first `length + 1` leaf offsets (density d owns leaves [offset d, offset d+1)), then
 * LEAF_STRIDE values per leaf.
 */
export class DensityList {
  readonly length: number;
  private readonly buffer: Float64Array;

  constructor(buffer: Float64Array, length: number) {
    this.buffer = buffer;
    this.length = length;
  }

  /** pdf of density `index` at x. */
  pdf(index: number, x: number): number {
    const buffer = this.buffer;
    // `| 0`: offsets are stored as doubles; integer indexes keep the element loads fast.
    const end = (this.length + 1 + buffer[index + 1]! * LEAF_STRIDE) | 0;
    let total = 0;
    for (let o = (this.length + 1 + buffer[index]! * LEAF_STRIDE) | 0; o < end; o += LEAF_STRIDE) {
      const kind = buffer[o]! | 0;
      let value: number;
      if (kind === NORM) {
        value = normPdf(x, buffer[o + 1]!, buffer[o + 2]!, buffer[o + 5]!);
      } else {
        value = evaluateLeaf(kind, x, buffer[o + 1]!, buffer[o + 2]!, buffer[o + 3]!, buffer[o + 4]!, buffer[o + 5]!);
      }
      total += buffer[o + 6]! * value;
    }
    return total;
  }

  /** out[i] = pdf of density `index` at xs[i], for every i (one tight loop per leaf). */
  fill(index: number, xs: Float64Array, out: Float64Array): void {
    const buffer = this.buffer;
    const n = xs.length;
    out.fill(0, 0, n);
    const end = (this.length + 1 + buffer[index + 1]! * LEAF_STRIDE) | 0;
    for (let o = (this.length + 1 + buffer[index]! * LEAF_STRIDE) | 0; o < end; o += LEAF_STRIDE) {
      const kind = buffer[o]! | 0;
      const loc = buffer[o + 1]!;
      const scale = buffer[o + 2]!;
      const s1 = buffer[o + 3]!;
      const s2 = buffer[o + 4]!;
      const constant = buffer[o + 5]!;
      const weight = buffer[o + 6]!;
      if (kind === NORM) {
        for (let i = 0; i < n; i++) out[i]! += weight * normPdf(xs[i]!, loc, scale, constant);
      } else {
        for (let i = 0; i < n; i++) out[i]! += weight * evaluateLeaf(kind, xs[i]!, loc, scale, s1, s2, constant);
      }
    }
  }

  /** Density `index` as a function. */
  evaluator(index: number): Pdf {
    return (x) => this.pdf(index, x);
  }
}

export type CompiledList = { ok: true; densities: DensityList } | { ok: false; index: number; reason: string };

let sharedBuffer: Float64Array = new Float64Array(0);

/**
 * Compiles a list of specs (one prediction's densities), stopping at the first invalid one.
 * `transient`: build into a buffer shared by all transient lists, so the result is valid only until
 * the next transient compile. Scorers use it (they are synchronous and keep nothing): allocating,
 * zeroing and collecting ~18 KB per 288-step prediction was a visible share of scoring time.
 */
export function compileDensities(
  specs: readonly unknown[],
  limits: Partial<DensityLimits> = {},
  options: { transient?: boolean } = {},
): CompiledList {
  const reader = new SpecReader(resolveDensityLimits(limits));
  const base = specs.length + 1;
  // One leaf per density is the common case; mixtures grow the buffer.
  const size = base + Math.max(specs.length, 1) * LEAF_STRIDE;
  let values: Float64Array;
  if (options.transient === true) {
    if (sharedBuffer.length < size) sharedBuffer = new Float64Array(size);
    values = sharedBuffer;
  } else {
    values = new Float64Array(size);
  }
  const target: LeafBuffer = { values, count: 0, base };
  values[0] = 0;
  for (let index = 0; index < specs.length; index++) {
    const problem = reader.append(specs[index], target);
    if (problem !== undefined) return { ok: false, index, reason: problem };
    // `values` may have been replaced by a larger one while appending.
    target.values[index + 1] = target.count;
  }
  if (options.transient === true) sharedBuffer = target.values;
  return { ok: true, densities: new DensityList(target.values, specs.length) };
}

export type CompiledDensity = { ok: true; pdf: Pdf } | { ok: false; reason: string };

/** Compiles one spec: `{type: builtin|scipy, name, params}`, `{type: mixture, components}` or `{step, prediction}`. */
export function compileDensity(spec: unknown, limits: Partial<DensityLimits> = {}): CompiledDensity {
  const compiled = compileDensities([spec], limits);
  return compiled.ok ? { ok: true, pdf: compiled.densities.evaluator(0) } : { ok: false, reason: compiled.reason };
}

/** pdf(spec, x) in one go; throws an Error with the reason when the spec is invalid. */
export function densityPdf(spec: unknown, x: number): number {
  const compiled = compileDensity(spec);
  if (!compiled.ok) throw new Error(`invalid density: ${compiled.reason}`);
  return compiled.pdf(x);
}
