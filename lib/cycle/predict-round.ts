import { type DatabasePool, expectedModels, insertPredictions, type PredictionInput } from '../db/index.js';
import type { GameDefinition, PredictShape } from '../game/index.js';
import { createLogger, type Logger } from '../log/index.js';
import type { CallResult, ModelInfo, ModelRunnerClient } from '../model-runner/index.js';
import type { DuePrediction } from '../schedule/index.js';
import { boundedReason, decodeAnswer } from './answers.js';
import { toCallArguments } from './call-arguments.js';
import { recordFleet } from './fleet.js';
import type { FeedRequest, PriceFeed } from './price-feed.js';
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
  /**
   * Feed the shard's models their new prices first (the shard is the round's): each model is asked
   * right after its own tick, never after everyone's.
   */
  feed?: Omit<FeedRequest, 'shard'>;
  /** Aborting (the activity was cancelled) ends the calls in flight at once; the round then throws. */
  signal?: AbortSignal;
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

/** Each round's calls carry a label of their own, so a model's calls of one round line up behind each other. */
let roundsStarted = 0;

/**
 * Asks every ready model of the shard for the due predictions, checks each answer with the game's
 * validation, and stores one row per (model, due prediction): SUCCESS, FAILED with a reason, TIMEOUT,
 * or ABSENT for a model expected to run that could not be asked. Rows already stored by an earlier
 * attempt (same slot) are skipped, so a retried round never duplicates.
 *
 * Nothing waits on a slow model: answers are stored as they come (an insert of whatever arrived
 * while the previous one ran), so a model that never answers delays only its own TIMEOUT row. A
 * model still busy with a call of an earlier round is TIMEOUT at once. With `feed`, the shard's price
 * ticks go out first and each model's predict lines up behind its own tick, not behind everyone's;
 * a model getting its first (full-history) tick is asked once that tick succeeded.
 */
export async function predictRound(deps: PredictRoundDeps, request: PredictRoundRequest): Promise<PredictRoundSummary> {
  const { client, db, game, feed } = deps;
  const log = deps.logger ?? createLogger('predict-round');
  const shard = request.shard ?? wholeFleet;
  const shape = game.predictShapes[request.shape ?? game.defaultPredictShape];
  if (!shape) throw new Error(`game ${game.id} has no predict shape "${request.shape}"`);
  const signal = request.signal;

  const connected = client.models().filter((model) => inShard(model.modelId, shard));
  const announced = client.expectedModels();
  const expected = announced ? announced.filter((model) => inShard(model.modelId, shard)) : [];
  // The fleet's bookkeeping runs while the calls go out (nothing in it decides who is asked); rows
  // are inserted only once it is done, as they refer to the models it records.
  const bookkeeping = (async () => {
    const storedExpected = (await expectedModels(db)).filter((model) => inShard(model.modelId, shard));
    await recordFleet(db, { expected, connected }, announced ? storedExpected.map((model) => model.modelId) : []);
    return storedExpected;
  })();
  bookkeeping.catch(() => {});

  const ready = connected.filter((model) => feed.isFed(model));
  const unfed = new Map(connected.filter((model) => !feed.isFed(model)).map((model) => [model.modelId, model]));
  const calls = planCalls(request.due, shape);
  const writer = new RowWriter(db, bookkeeping);
  const label = `${shape.method} round ${++roundsStarted}`;
  const waitBehind = [game.tick.method, label];
  /** Per planned call, the models that got their rows. */
  const answered = calls.map(() => new Set<string>());

  const modelsAsked = new Set<string>();
  const ask = (models: readonly ModelInfo[]): Promise<void> => {
    for (const model of models) modelsAsked.add(model.modelId);
    return Promise.all(
      calls.map(async (planned, index) => {
        if (models.length === 0) return;
        const call = shape.buildCall(
          planned.asset,
          planned.horizon,
          planned.steps.map((s) => s.step),
        );
        const performedAt = Date.now() / 1000;
        const take = (result: CallResult) => {
          // After a cancellation nothing more is stored: a retry must be free to store the real answers.
          if (signal?.aborted || answered[index]?.has(result.model.modelId)) return;
          answered[index]?.add(result.model.modelId);
          writer.add(answerRows(game, shape, planned, result, performedAt));
        };
        const results = await client.call(call.method, toCallArguments(call.args), {
          timeoutMs: request.timeoutMs,
          models: models.map((model) => model.modelId),
          decode: false,
          label,
          waitBehind,
          onResult: take,
          ...(signal ? { signal } : {}),
        });
        for (const result of results) take(result);
      }),
    ).then(() => undefined);
  };

  // Models new to the feed are asked as their first tick succeeds, a few at a time.
  const lateAsks: Promise<void>[] = [];
  let justFed: ModelInfo[] = [];
  const askJustFed = () => {
    if (justFed.length === 0) return;
    lateAsks.push(ask(justFed));
    justFed = [];
  };
  let feeding: Promise<unknown> = Promise.resolve();
  if (request.feed) {
    let ticksSent = () => {};
    const sent = new Promise<void>((resolve) => {
      ticksSent = resolve;
    });
    feeding = feed.feed(
      { ...request.feed, shard },
      {
        ...(signal ? { signal } : {}),
        onTicksSent: ticksSent,
        onTicked: (model, ok) => {
          if (!ok || !unfed.has(model.modelId)) return;
          unfed.delete(model.modelId);
          if (justFed.length === 0) setImmediate(askJustFed);
          justFed.push(model);
        },
      },
    );
    await Promise.race([sent, feeding]);
  }
  const asked = ask(ready);
  await feeding;
  askJustFed();
  await Promise.all([asked, ...lateAsks]);
  const storedExpected = await bookkeeping;
  // Without a word from discovery yet, the database's list of expected models stands.
  const expectedIds = new Set(
    announced ? expected.map((model) => model.modelId) : storedExpected.map((model) => model.modelId),
  );
  for (const model of connected) expectedIds.add(model.modelId);
  const deploymentOf = new Map<string, string | null>(storedExpected.map((m) => [m.modelId, m.deploymentId ?? null]));
  for (const model of [...expected, ...connected]) deploymentOf.set(model.modelId, model.deploymentId);
  if (signal?.aborted) {
    await writer.finish().catch(() => 0);
    throw signal.reason instanceof Error ? signal.reason : new Error('the predict round was cancelled');
  }

  const lateRows: PredictionInput[] = [];
  const performedAt = Date.now() / 1000;
  calls.forEach((planned, index) => {
    const done = answered[index] as Set<string>;
    for (const model of unfed.values()) {
      done.add(model.modelId);
      for (const { step, slotSec } of planned.steps) {
        lateRows.push({
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
      if (done.has(modelId)) continue;
      for (const { step, slotSec } of planned.steps) {
        lateRows.push({
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
  });
  writer.add(lateRows);
  const stored = await writer.finish();
  const byStatus = writer.byStatus;
  const summary: PredictRoundSummary = {
    modelsCalled: calls.length === 0 ? 0 : modelsAsked.size,
    predictions: writer.rows,
    stored,
    byStatus,
  };
  log.info(
    { ...summary, due: request.due.length, shard },
    `asked ${summary.modelsCalled} model(s) for ${request.due.length} prediction(s): ${byStatus.SUCCESS} succeeded, ` +
      `${byStatus.FAILED} failed, ${byStatus.TIMEOUT} timed out, ${byStatus.ABSENT} absent; ${stored} new row(s) stored`,
  );
  return summary;
}

/** The rows one model's result gives for the due predictions its call answers. */
function answerRows(
  game: GameDefinition,
  shape: PredictShape,
  planned: PlannedCall,
  result: CallResult,
  performedAt: number,
): PredictionInput[] {
  const rows: PredictionInput[] = [];
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
    // The model's own text when the stored value is its whole answer: no second serialisation.
    // The validated value, serialised again by the insert: never the model's own text.
    rows.push({ ...base, status: 'SUCCESS', distributions: value });
  }
  return rows;
}

/**
 * Stores rows as they come without an insert per answer: whatever arrived while one insert ran goes
 * in the next one (set-based writes, and early answers are stored early).
 */
class RowWriter {
  private pending: PredictionInput[] = [];
  private running: Promise<void> | null = null;
  private failure: unknown = null;
  stored = 0;
  rows = 0;
  readonly byStatus: StatusCounts = { SUCCESS: 0, FAILED: 0, TIMEOUT: 0, ABSENT: 0 };

  /** `before`: what must be done before the first insert (the fleet's rows). */
  constructor(
    private readonly db: DatabasePool,
    private readonly before: Promise<unknown>,
  ) {}

  add(rows: readonly PredictionInput[]): void {
    for (const row of rows) {
      this.pending.push(row);
      this.byStatus[row.status]++;
    }
    this.rows += rows.length;
    this.running ??= this.drain();
  }

  /** Waits for every row to be stored; the number of rows actually inserted (not stored before). */
  async finish(): Promise<number> {
    while (this.running) await this.running;
    if (this.failure) throw this.failure;
    return this.stored;
  }

  private async drain(): Promise<void> {
    try {
      await this.before;
      // One turn first, so answers that arrive together share an insert.
      await new Promise<void>((resolve) => setImmediate(resolve));
      while (this.pending.length > 0 && !this.failure) {
        const batch = this.pending;
        this.pending = [];
        this.stored += await insertPredictions(this.db, batch);
      }
    } catch (error) {
      this.failure = error;
    } finally {
      this.running = null;
    }
  }
}
