import type { DatabasePool } from '../db/index.js';
import { forgetFeed, loadFeedState, markFullHistorySent, pricesBetween, recordFeedMarks } from '../db/index.js';
import type { GameDefinition, TickData } from '../game/index.js';
import { createLogger, type Logger } from '../log/index.js';
import type { CallResult, ModelInfo, ModelRunnerClient } from '../model-runner/index.js';
import { toCallArguments } from './call-arguments.js';
import { recordFleet } from './fleet.js';
import { inShard, type Shard, wholeFleet } from './shards.js';

export interface PriceFeedOptions {
  client: ModelRunnerClient;
  db: DatabasePool;
  game: GameDefinition;
  /** How much history a new deployment gets as its first tick (default 30 days, as upstream). */
  historySeconds?: number;
  timeoutMs: number;
  logger?: Logger;
}

export interface FeedRequest {
  assets: readonly string[];
  /** Send prices up to this instant (unix seconds): the cycle's scheduled time, so replays send the same. */
  untilSec: number;
  shard?: Shard;
}

/** How a feed pass reports as it goes (for a predict round that follows it model by model). */
export interface FeedProgress {
  /** Aborting ends the tick calls in flight at once. */
  signal?: AbortSignal;
  /**
   * Called once every tick call of the pass has been sent (before any answer): a predict sent to a
   * model after this lines up behind that model's tick.
   */
  onTicksSent?: () => void;
  /**
   * Called for each deployment as it is known to be fed or not: at once for one already up to date,
   * else as its tick's answer comes (true when it took the tick).
   */
  onTicked?: (model: ModelInfo, ok: boolean) => void;
}

export interface FeedSummary {
  /** Deployments that got a tick now (full history or new points). */
  ticked: number;
  /** Of those, deployments that got their full history. */
  fullHistory: number;
  /** Deployments already up to date: nothing new to send. */
  upToDate: number;
  /** Deployments whose tick did not succeed; they are not asked to predict until one does. */
  failedCount: number;
  /** The first few of them, errors shortened: a summary is an activity result, kept in workflow history. */
  failed: Array<{ modelId: string; status: string; error: string }>;
}

/**
 * How much of the failures a summary lists. Listing them all made a 1,000-model tick's result 330 KB
 * with ordinary Python error messages (over Temporal's 256 KB warning), and a model's own message can
 * be any length (over the 2 MB limit: the tick would then fail on every retry).
 */
const LISTED_FAILURES = 10;
const LISTED_ERROR_CHARS = 300;

/**
 * Keeps every connected model deployment's price store current. How far each deployment has been fed lives
 * in the database (deployments.full_history_sent_at and feed_marks), shared by every model-calls worker, so a
 * deployment gets its whole history once, whichever worker calls it. A deployment not fed yet, or set up
 * again after a reconnect (its instance may be new), gets the whole history first (docs/game.md#where-we-differ-from-crunchdaos-code: upstream
 * sent the incremental tick first and the model lost its history).
 */
export class PriceFeed {
  /** Deployments fed as of the last feed(): the predict round right after it asks only these. */
  private readonly fed = new Set<string>();
  private readonly historySeconds: number;
  private readonly log: Logger;

  constructor(private readonly options: PriceFeedOptions) {
    this.historySeconds = options.historySeconds ?? 30 * 86_400;
    this.log = options.logger ?? createLogger('price-feed');
    options.client.on('model-reconnected', (model: ModelInfo) => {
      this.fed.delete(model.deploymentId);
      forgetFeed(options.db, [model.deploymentId]).catch((error: Error) =>
        this.log.warn(
          { deploymentId: model.deploymentId, error: error.message },
          'could not record that a reconnected model needs its history again',
        ),
      );
    });
  }

  /** Whether the deployment has received its history (and may be asked to predict), as of the last feed(). */
  isFed(model: ModelInfo): boolean {
    return this.fed.has(model.deploymentId);
  }

  /**
   * Reads which of the shard's deployments have their history (whichever worker fed them), without
   * calling any model: a prediction slot asks those, and no tick stands between a slot and its call.
   */
  async refresh(shard: Shard = wholeFleet): Promise<void> {
    await this.loadStates(this.options.client.models().filter((model) => inShard(model.modelId, shard)));
  }

  private async loadStates(models: readonly ModelInfo[]) {
    const states = await loadFeedState(
      this.options.db,
      models.map((model) => model.deploymentId),
    );
    for (const model of models) {
      if (states.get(model.deploymentId)?.fed) this.fed.add(model.deploymentId);
      else this.fed.delete(model.deploymentId);
    }
    return states;
  }

  /**
   * Sends each deployment of the shard the prices it lacks up to `untilSec`. Groups of deployments
   * equally behind are ticked at once, in parallel: no group waits for another's slow model.
   */
  async feed(request: FeedRequest, progress: FeedProgress = {}): Promise<FeedSummary> {
    const { client, db, game } = this.options;
    const shard = request.shard ?? wholeFleet;
    const models = client.models().filter((model) => inShard(model.modelId, shard));
    const summary: FeedSummary = { ticked: 0, fullHistory: 0, upToDate: 0, failedCount: 0, failed: [] };

    const states = await this.loadStates(models);

    // Deployments that are equally far behind get one identical payload.
    const groups = new Map<string, { marks: Map<string, number> | undefined; models: ModelInfo[] }>();
    for (const model of models) {
      const state = states.get(model.deploymentId);
      const marks = state?.fed ? state.marks : undefined;
      const key = marks ? request.assets.map((asset) => marks.get(asset) ?? '-').join('|') : 'new';
      const group = groups.get(key) ?? { marks, models: [] };
      group.models.push(model);
      groups.set(key, group);
    }

    const queries = new Map<string, Promise<Array<[number, number]>>>();
    const pricesAfter = (asset: string, after: number) => {
      const key = `${asset}@${after}`;
      let query = queries.get(key);
      if (!query) {
        query = pricesBetween(db, asset, after, request.untilSec).then((rows) =>
          rows.filter((row) => row.ts > after).map((row): [number, number] => [row.ts, row.price]),
        );
        queries.set(key, query);
      }
      return query;
    };

    // Every payload first, then every tick at once.
    interface Tick {
      fresh: boolean;
      models: ModelInfo[];
      data: TickData;
      newest: Map<string, number>;
    }
    const ticks: Tick[] = [];
    const upToDate: ModelInfo[] = [];
    for (const group of groups.values()) {
      const fresh = group.marks === undefined;
      const data: TickData = {};
      const newest = new Map<string, number>();
      for (const asset of request.assets) {
        const after = group.marks?.get(asset) ?? request.untilSec - this.historySeconds;
        const points = await pricesAfter(asset, after);
        if (points.length > 0) {
          data[asset] = points;
          newest.set(asset, points[points.length - 1]![0]);
        }
      }
      if (!fresh && newest.size === 0) {
        summary.upToDate += group.models.length;
        upToDate.push(...group.models);
      } else ticks.push({ fresh, models: group.models, data, newest });
    }

    const fullHistorySent: ModelInfo[] = [];
    const newMarks: Array<{ deploymentId: string; asset: string; fedUntil: number }> = [];
    const seen = new WeakSet<CallResult>();
    const take = (tick: Tick, result: CallResult) => {
      if (seen.has(result)) return;
      seen.add(result);
      const ok = result.status === 'SUCCESS';
      if (ok) {
        for (const [asset, fedUntil] of tick.newest)
          newMarks.push({ deploymentId: result.model.deploymentId, asset, fedUntil });
        this.fed.add(result.model.deploymentId);
        summary.ticked++;
        if (tick.fresh) {
          summary.fullHistory++;
          fullHistorySent.push(result.model);
        }
      } else {
        summary.failedCount++;
        if (summary.failed.length < LISTED_FAILURES) {
          summary.failed.push({
            modelId: result.model.modelId,
            status: result.status,
            error: (result.error ?? result.status).slice(0, LISTED_ERROR_CHARS),
          });
        }
      }
      progress.onTicked?.(result.model, ok);
    };
    const sent = ticks.map(async (tick) => {
      const call = game.tick.buildCall(tick.data);
      const results = await client.call(call.method, toCallArguments(call.args), {
        timeoutMs: this.options.timeoutMs,
        models: tick.models.map((model) => model.modelId),
        ...(progress.signal ? { signal: progress.signal } : {}),
        onResult: (result) => take(tick, result),
      });
      // Each result went through onResult already; this catches any a client did not hand over.
      for (const result of results) take(tick, result);
    });
    progress.onTicksSent?.();
    for (const model of upToDate) progress.onTicked?.(model, true);
    await Promise.all(sent);
    if (fullHistorySent.length > 0) {
      // The deployment rows must exist before they are marked (a first tick comes before any prediction).
      await recordFleet(db, { expected: [], connected: fullHistorySent });
      await markFullHistorySent(
        db,
        fullHistorySent.map((model) => model.deploymentId),
        Date.now() / 1000,
      );
    }
    await recordFeedMarks(db, newMarks);
    if (summary.failedCount > 0) {
      this.log.warn(
        { failed: summary.failed, count: summary.failedCount },
        `${summary.failedCount} model(s) did not take their price tick; they are not asked to predict until they do`,
      );
    }
    return summary;
  }
}
