import { type DatabasePool, expectedModels, insertPredictions, type PredictionInput } from '../db/index.js';
import type { GameDefinition, PredictShape } from '../game/index.js';
import { createLogger, type Logger } from '../log/index.js';
import type { CallResult, ModelRunnerClient } from '../model-runner/index.js';
import type { DuePrediction } from '../schedule/index.js';
import { boundedReason, decodeAnswer } from './answers.js';
import { toCallArguments } from './call-arguments.js';
import { recordFleet } from './fleet.js';
import type { PriceFeed } from './price-feed.js';
import { inShard, type Shard, wholeFleet } from './shards.js';

export interface PredictRoundDeps {
  client: ModelRunnerClient;
  db: DatabasePool;
  game: GameDefinition;
  feed: PriceFeed;
  logger?: Logger;
}

export interface PredictRoundRequest {
  due: readonly DuePrediction[];
  shard?: Shard;
  timeoutMs: number;
  /** The game's predict shape to use (default the game's). */
  shape?: string;
}

export type StatusCounts = Record<'SUCCESS' | 'FAILED' | 'TIMEOUT' | 'ABSENT', number>;

export interface PredictRoundSummary {
  /** Distinct models asked at least once. */
  modelsCalled: number;
  /** Prediction rows built (one per model and due prediction). */
  predictions: number;
  /** Rows actually inserted: fewer than `predictions` only when a retry found them stored already. */
  stored: number;
  byStatus: StatusCounts;
}

/** One gRPC call to every ready model, answering one or several due predictions of an (asset, horizon). */
interface PlannedCall {
  asset: string;
  horizon: number;
  steps: Array<{ step: number; slotSec: number }>;
}

function planCalls(due: readonly DuePrediction[], shape: PredictShape): PlannedCall[] {
  if (!shape.answersManySteps) {
    return due.map((d) => ({
      asset: d.asset,
      horizon: d.horizonSec,
      steps: [{ step: d.stepSec, slotSec: d.slotSec }],
    }));
  }
  const calls = new Map<string, PlannedCall>();
  for (const d of due) {
    const key = `${d.asset}/${d.horizonSec}/${d.slotSec}`;
    const call = calls.get(key) ?? { asset: d.asset, horizon: d.horizonSec, steps: [] };
    call.steps.push({ step: d.stepSec, slotSec: d.slotSec });
    calls.set(key, call);
  }
  return [...calls.values()];
}

/**
 * Asks every ready model of the shard for the due predictions, checks each answer with the game's
 * validation, and stores one row per (model, due prediction): SUCCESS, FAILED with a reason, TIMEOUT,
 * or ABSENT for a model expected to run that could not be asked. One bulk insert; rows already stored
 * by an earlier attempt (same slot) are skipped, so a retried round never duplicates.
 */
export async function predictRound(deps: PredictRoundDeps, request: PredictRoundRequest): Promise<PredictRoundSummary> {
  const { client, db, game, feed } = deps;
  const log = deps.logger ?? createLogger('predict-round');
  const shard = request.shard ?? wholeFleet;
  const shape = game.predictShapes[request.shape ?? game.defaultPredictShape];
  if (!shape) throw new Error(`game ${game.id} has no predict shape "${request.shape}"`);

  const connected = client.models().filter((model) => inShard(model.modelId, shard));
  const announced = client.expectedModels();
  const storedExpected = (await expectedModels(db)).filter((model) => inShard(model.modelId, shard));
  const expected = announced ? announced.filter((model) => inShard(model.modelId, shard)) : [];
  await recordFleet(db, { expected, connected }, announced ? storedExpected.map((model) => model.modelId) : []);
  // Without a word from discovery yet, the database's list of expected models stands.
  const expectedIds = new Set(
    announced ? expected.map((model) => model.modelId) : storedExpected.map((model) => model.modelId),
  );
  for (const model of connected) expectedIds.add(model.modelId);
  const deploymentOf = new Map<string, string | null>(storedExpected.map((m) => [m.modelId, m.deploymentId ?? null]));
  for (const model of [...expected, ...connected]) deploymentOf.set(model.modelId, model.deploymentId);

  const ready = connected.filter((model) => feed.isFed(model));
  const unfed = connected.filter((model) => !feed.isFed(model));
  const rows: PredictionInput[] = [];
  const calls = planCalls(request.due, shape);

  await Promise.all(
    calls.map(async (planned) => {
      const call = shape.buildCall(
        planned.asset,
        planned.horizon,
        planned.steps.map((s) => s.step),
      );
      const performedAt = Date.now() / 1000;
      const results: CallResult[] =
        ready.length === 0
          ? []
          : await client.call(call.method, toCallArguments(call.args), {
              timeoutMs: request.timeoutMs,
              models: ready.map((model) => model.modelId),
              decode: false,
            });
      const answered = new Set<string>();
      for (const result of results) {
        answered.add(result.model.modelId);
        const answer = result.status === 'SUCCESS' ? decodeAnswer(result) : null;
        for (const { step, slotSec } of planned.steps) {
          const base = {
            modelId: result.model.modelId,
            deploymentId: result.model.deploymentId,
            asset: planned.asset,
            horizon: planned.horizon,
            step,
            execTimeUs: result.execTimeUs,
            performedAt,
            scheduledAt: slotSec,
          };
          if (result.status !== 'SUCCESS' || !answer?.ok) {
            const reason = answer && !answer.ok ? answer.reason : (result.error ?? null);
            rows.push({ ...base, status: answer ? 'FAILED' : result.status, reason });
            continue;
          }
          const value = shape.pick(answer.value, step);
          const check = game.validateOutput(value, { asset: planned.asset, horizon: planned.horizon, step });
          if (!check.ok) {
            rows.push({ ...base, status: 'FAILED', reason: boundedReason(check.reason) });
            continue;
          }
          // The validated value, serialised again by the insert: never the model's own text.
          rows.push({ ...base, status: 'SUCCESS', distributions: value });
        }
      }
      for (const model of unfed) {
        answered.add(model.modelId);
        for (const { step, slotSec } of planned.steps) {
          rows.push({
            modelId: model.modelId,
            deploymentId: model.deploymentId,
            asset: planned.asset,
            horizon: planned.horizon,
            step,
            status: 'FAILED',
            reason: 'not asked: the model has not accepted its price history tick yet',
            performedAt,
            scheduledAt: slotSec,
          });
        }
      }
      for (const modelId of expectedIds) {
        if (answered.has(modelId)) continue;
        for (const { step, slotSec } of planned.steps) {
          rows.push({
            modelId,
            deploymentId: deploymentOf.get(modelId) ?? null,
            asset: planned.asset,
            horizon: planned.horizon,
            step,
            status: 'ABSENT',
            reason: 'the model is expected to run but is not connected',
            performedAt,
            scheduledAt: slotSec,
          });
        }
      }
    }),
  );

  const stored = await insertPredictions(db, rows);
  const byStatus: StatusCounts = { SUCCESS: 0, FAILED: 0, TIMEOUT: 0, ABSENT: 0 };
  for (const row of rows) byStatus[row.status]++;
  const summary: PredictRoundSummary = {
    modelsCalled: ready.length,
    predictions: rows.length,
    stored,
    byStatus,
  };
  log.info(
    { ...summary, due: request.due.length, shard },
    `asked ${ready.length} model(s) for ${request.due.length} prediction(s): ${byStatus.SUCCESS} succeeded, ` +
      `${byStatus.FAILED} failed, ${byStatus.TIMEOUT} timed out, ${byStatus.ABSENT} absent; ${stored} new row(s) stored`,
  );
  return summary;
}
