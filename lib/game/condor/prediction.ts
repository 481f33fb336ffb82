// The checks a Condor prediction passes before it is stored (predict time) and again before it is
// scored: a list of exactly horizon/step valid densities. Reasons are written for a participant.
import type { OutputCheck, PredictRequest } from '../definition.js';
import {
  type CompiledDensity,
  compileDensity,
  type DensityLimits,
  describeValue,
  type Pdf,
} from './densities/index.js';

export type CompiledPrediction = { ok: true; pdfs: Pdf[]; distributions: unknown[] } | { ok: false; reason: string };

/** Compiles every density of an answer for (horizon, step), or says what is wrong with it. */
export function compilePrediction(
  output: unknown,
  horizon: number,
  step: number,
  limits: Partial<DensityLimits> = {},
): CompiledPrediction {
  if (!Array.isArray(output)) {
    return { ok: false, reason: `The prediction is not a list of densities (got ${describeValue(output)})` };
  }
  const expected = horizon / step;
  if (output.length !== expected) {
    return {
      ok: false,
      reason: `The prediction does not have the correct number of steps: expected ${expected} densities (horizon ${horizon} / step ${step}), got ${output.length}`,
    };
  }
  const pdfs: Pdf[] = new Array(output.length);
  for (let k = 0; k < output.length; k++) {
    const compiled: CompiledDensity = compileDensity(output[k], limits);
    if (!compiled.ok) return { ok: false, reason: `distributions[${k}]: ${compiled.reason}` };
    pdfs[k] = compiled.pdf;
  }
  return { ok: true, pdfs, distributions: output };
}

/** Predict-time validation (the predict cycle and the score-prediction command use it). */
export function validateCondorOutput(output: unknown, request: PredictRequest): OutputCheck {
  const compiled = compilePrediction(output, request.horizon, request.step);
  return compiled.ok ? { ok: true, distributions: compiled.distributions } : compiled;
}

/** Upstream's wording, which the UI shows as the failure reason of a non-SUCCESS prediction. */
export function statusFailureReason(status: string): string {
  return `The prediction not succeed PredictionStatus.${status}`;
}
