import type { DatabasePool } from '../db/index.js';
import { markFullHistorySent, pricesBetween } from '../db/index.js';
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
  /** Called with each ticked deployment as its answer comes, true when it took the tick. */
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
 * Keeps every connected model deployment's price store current. It remembers, per deployment and
 * asset, the last price time it delivered; a deployment it has not fed yet, or that was set up again
 * (its instance may be new), gets the whole history first (GAME.md §7: upstream sent the incremental
 * tick first and the model lost its history). The memory lives with the connections it describes.
 */
export class PriceFeed {
  private readonly delivered = new Map<string, Map<string, number>>();
  private readonly historySeconds: number;
  private readonly log: Logger;

  constructor(private readonly options: PriceFeedOptions) {
    this.historySeconds = options.historySeconds ?? 30 * 86_400;
    this.log = options.logger ?? createLogger('price-feed');
    const forget = (model: ModelInfo) => this.delivered.delete(model.deploymentId);
    options.client.on('model-joined', forget);
    options.client.on('model-reconnected', forget);
    options.client.on('model-left', forget);
  }

  /** Whether the deployment has received its history (and may be asked to predict). */
  isFed(model: ModelInfo): boolean {
    return this.delivered.has(model.deploymentId);
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

    // Deployments that are equally far behind get one identical payload.
    const groups = new Map<string, { marks: Map<string, number> | undefined; models: ModelInfo[] }>();
    for (const model of models) {
      const marks = this.delivered.get(model.deploymentId);
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
    const ticks: Array<{
      fresh: boolean;
      marks: Map<string, number> | undefined;
      models: ModelInfo[];
      data: TickData;
      newest: Map<string, number>;
    }> = [];
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
      if (!fresh && newest.size === 0) summary.upToDate += group.models.length;
      else ticks.push({ fresh, marks: group.marks, models: group.models, data, newest });
    }

    const fullHistorySent: ModelInfo[] = [];
    const seen = new WeakSet<CallResult>();
    const take = (tick: (typeof ticks)[number], result: CallResult) => {
      if (seen.has(result)) return;
      seen.add(result);
      const ok = result.status === 'SUCCESS';
      if (ok) {
        const marks = new Map(tick.marks ?? []);
        for (const [asset, ts] of tick.newest) marks.set(asset, ts);
        this.delivered.set(result.model.deploymentId, marks);
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
    if (summary.failedCount > 0) {
      this.log.warn(
        { failed: summary.failed, count: summary.failedCount },
        `${summary.failedCount} model(s) did not take their price tick; they are not asked to predict until they do`,
      );
    }
    return summary;
  }
}
