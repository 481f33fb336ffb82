// The checks a Condor prediction passes before it is stored (predict time) and again before it is
// scored: a list of exactly horizon/step valid densities. Reasons are written for a participant.
import type { OutputCheck, PredictRequest } from '../definition.js';
import { compileDensities, type DensityLimits, type DensityList, describeValue } from './densities/index.js';

export type CompiledPrediction =
  | { ok: true; densities: DensityList; distributions: unknown[] }
  | { ok: false; reason: string };

/**
 * Compiles every density of an answer for (horizon, step), or says what is wrong with it.
 * `transient` (scorers only): the densities stay valid only until the next transient compile.
 */
export function compilePrediction(
  output: unknown,
  horizon: number,
  step: number,
  limits: Partial<DensityLimits> = {},
  options: { transient?: boolean } = {},
): CompiledPrediction {
  const shapeProblem = listShapeProblem(output, horizon, step);
  if (shapeProblem !== undefined) return { ok: false, reason: shapeProblem };
  const compiled = compileDensities(output as unknown[], limits, options);
  if (!compiled.ok) return { ok: false, reason: `distributions[${compiled.index}]: ${compiled.reason}` };
  return { ok: true, densities: compiled.densities, distributions: output as unknown[] };
}

/** Why an answer is not a list of horizon/step densities, or undefined when it is one (densities unchecked). */
export function listShapeProblem(output: unknown, horizon: number, step: number): string | undefined {
  if (!Array.isArray(output)) return `The prediction is not a list of densities (got ${describeValue(output)})`;
  const expected = horizon / step;
  if (output.length !== expected) {
    return `The prediction does not have the correct number of steps: expected ${expected} densities (horizon ${horizon} / step ${step}), got ${output.length}`;
  }
  return undefined;
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
