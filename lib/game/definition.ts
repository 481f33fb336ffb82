// The game-definition interface: everything the coordinator needs to know about a game, so that
// workflows, activities and the gateway stay generic. Condor (lib/game/condor) is the built-in one.
import type { PriceSeries, TickData } from './prices.js';

/** Which way scores rank: likelihood is higher-is-better, CRPS lower-is-better. */
export type RankingDirection = 'higher-is-better' | 'lower-is-better';

/** A positional call argument, typed as the model-runner wire needs it (docs/protocol.md#variant-encoding). */
export type CallArgument =
  | { type: 'STRING'; value: string }
  | { type: 'INT'; value: number }
  | { type: 'JSON'; value: unknown };

/** One gRPC Call: method name and positional arguments (positions 0..n-1 in order). */
export interface ModelCall {
  method: string;
  args: CallArgument[];
}

/** A prediction group (docs/game.md#predict-schedule): its assets are predicted round-robin, one every interval / assets.length s. */
export interface PredictionConfig {
  assets: readonly string[];
  /** Seconds. */
  horizon: number;
  /** Seconds between the densities of one prediction. */
  step: number;
  /** Seconds between two predictions of the same asset. */
  interval: number;
}

/** How to ask a model for predictions: one call per step (`predict`) or one call for many steps (`predict_all`). */
export interface PredictShape {
  method: string;
  /** True when one call answers several steps of a horizon. */
  answersManySteps: boolean;
  /** The call asking for `steps` (exactly one unless answersManySteps) of (asset, horizon). */
  buildCall(asset: string, horizon: number, steps: readonly number[]): ModelCall;
  /** The part of a call's return value that answers `step` (undefined when the model left it out). */
  pick(result: unknown, step: number): unknown;
}

export interface PredictRequest {
  asset: string;
  horizon: number;
  step: number;
}

/** Predict-time check of a model's answer for one (asset, horizon, step). */
export type OutputCheck = { ok: true; distributions: unknown[] } | { ok: false; reason: string };

export type PredictionStatus = 'SUCCESS' | 'FAILED' | 'TIMEOUT' | 'ABSENT';

/** What a scorer needs of a stored prediction. */
export interface ScorablePrediction {
  asset: string;
  horizon: number;
  step: number;
  status: string;
  /** As the model answered (validated at predict time when status is SUCCESS). */
  distributions: unknown;
  /** Unix seconds (fractional allowed): performed_at + horizon. */
  resolvableAt: number;
}

export type PredictionScore =
  | { success: true; score: number; reason: null }
  | { success: false; score: null; reason: string };

/** A stored score: failed predictions carry the batch's failure penalty as their value. */
export interface BatchScore {
  success: boolean;
  /** null only when the scorer has no penalty for this batch (e.g. CRPS with no successful prediction). */
  score: number | null;
  reason: string | null;
}

export interface Scorer {
  name: string;
  direction: RankingDirection;
  /** Scores one prediction against the prices of its asset (which should cover resolvableAt). */
  score(prediction: ScorablePrediction, prices: PriceSeries): PredictionScore;
  /** The value given to failed predictions of a scoring batch, from the batch's successful scores. */
  failurePenalty(successfulScores: readonly number[]): number | null;
}

/** Rolling windows over resolvable_at, in seconds. */
export interface WindowLengths {
  recent: number;
  steady: number;
  anchor: number;
}

export interface GameDefinition {
  /** Our name for it, e.g. 'condor'. */
  id: string;
  /** CrunchDAO's crunch id: the orchestrator WebSocket path, e.g. 'condorgame'. */
  crunchId: string;
  /** The Setup className: the dotted path of the participants' base class. */
  setupClassName: string;
  tick: {
    method: string;
    /** The call carrying new price points (the first one a deployment gets carries the full history). */
    buildCall(data: TickData): ModelCall;
  };
  predictShapes: Readonly<Record<string, PredictShape>>;
  /** The shape used unless configured otherwise. */
  defaultPredictShape: string;
  /** Per-call timeout for predict, seconds. */
  predictTimeoutSeconds: number;
  /**
   * Largest answer a model may send, in bytes: the model client cuts a larger one while it arrives
   * (a FAILED call), so one model cannot make a worker buffer or the database store megabytes.
   */
  maxAnswerBytes: number;
  /** Checks one answer for (asset, horizon, step) and returns the distributions to store. */
  validateOutput(output: unknown, request: PredictRequest): OutputCheck;
  scorers: Readonly<Record<string, Scorer>>;
  defaultScorer: string;
  windows: WindowLengths;
  defaultPredictionConfigs: readonly PredictionConfig[];
}
