// Condor, CrunchDAO's crypto density-forecast game, as a game definition (docs/game.md).
import type { GameDefinition, PredictShape } from '../definition.js';
import { crpsScorer } from './crps.js';
import { likelihoodScorer } from './likelihood.js';
import { validateCondorOutput } from './prediction.js';

const DEFAULT_ASSETS = ['BTC', 'ETH', 'XAU', 'SOL'] as const;

/** `predict(asset: str, horizon: int, step: int) -> [density, ...]`: one call per step. */
const predictShape: PredictShape = {
  method: 'predict',
  answersManySteps: false,
  buildCall(asset, horizon, steps) {
    if (steps.length !== 1) throw new Error(`predict answers one step per call, asked for ${steps.length}`);
    return {
      method: 'predict',
      args: [
        { type: 'STRING', value: asset },
        { type: 'INT', value: horizon },
        { type: 'INT', value: steps[0]! },
      ],
    };
  },
  pick: (result) => result,
};

/** `predict_all(asset: str, horizon: int, steps: list[int]) -> {step: [density, ...]}` (condorgame >= 0.5). */
const predictAllShape: PredictShape = {
  method: 'predict_all',
  answersManySteps: true,
  buildCall(asset, horizon, steps) {
    if (steps.length === 0) throw new Error('predict_all needs at least one step');
    return {
      method: 'predict_all',
      args: [
        { type: 'STRING', value: asset },
        { type: 'INT', value: horizon },
        { type: 'JSON', value: [...steps] },
      ],
    };
  },
  // The answer crosses the wire as JSON, so its integer keys arrive as strings.
  pick(result, step) {
    if (typeof result !== 'object' || result === null || Array.isArray(result)) return undefined;
    return (result as Record<string, unknown>)[String(step)];
  },
};

export const condor: GameDefinition = {
  id: 'condor',
  crunchId: 'condorgame',
  setupClassName: 'condorgame.tracker.TrackerBase',
  tick: {
    method: 'tick',
    buildCall: (data) => ({ method: 'tick', args: [{ type: 'JSON', value: data }] }),
  },
  predictShapes: { predict: predictShape, predict_all: predictAllShape },
  defaultPredictShape: 'predict',
  predictTimeoutSeconds: 60,
  // predict_all over a day in 5-minute steps is ~150 KiB of mixtures: 4 MiB leaves room for richer ones.
  maxAnswerBytes: 4 * 1024 ** 2,
  validateOutput: validateCondorOutput,
  scorers: { likelihood: likelihoodScorer, crps: crpsScorer },
  defaultScorer: 'likelihood',
  windows: { recent: 86_400, steady: 3 * 86_400, anchor: 7 * 86_400 },
  defaultPredictionConfigs: [
    { assets: DEFAULT_ASSETS, horizon: 86_400, step: 300, interval: 3_600 },
    { assets: DEFAULT_ASSETS, horizon: 3_600, step: 60, interval: 720 },
  ],
};

export {
  CRPS_ASSET_ALIASES,
  CRPS_ASSET_WEIGHTS,
  CRPS_HALF_WIDTHS,
  type CrpsOptions,
  createCrpsScorer,
  crpsFailurePenalty,
  crpsFromPdfValues,
  crpsGrid,
  crpsIntegral,
  crpsOverallScore,
  crpsScorer,
  crpsStepScale,
  DEFAULT_CRPS_OPTIONS,
  normaliseRoundCrps,
  scoreCrps,
} from './crps.js';
export { compileDensity, DISTRIBUTION_NAMES, densityPdf, type Pdf } from './densities/index.js';
export { likelihoodFailurePenalty, likelihoodScorer, scoreLikelihood } from './likelihood.js';
export { compilePrediction, listShapeProblem, statusFailureReason, validateCondorOutput } from './prediction.js';
export { stepPairs } from './step-pairs.js';
