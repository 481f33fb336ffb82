import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { PredictionScore, PriceSeries, ScorablePrediction } from '../game/index.js';
import type { ScoreReply, ScoreRequest, SeriesArrays } from './messages.js';

export interface ScoreThreadsOptions {
  /** Scoring threads at most (default: the cores but one, at least one), started when first needed. */
  threads?: number;
  /** Predictions per message (default 32): small pieces keep each copy between threads short. */
  chunkSize?: number;
}

export interface ScoreJob {
  /** A game id of lib/game and one of its scorers (default: the game's). */
  game: string;
  scorer?: string;
  predictions: readonly ScorablePrediction[];
  series: ReadonlyMap<string, PriceSeries>;
}

export interface ScoreProgress {
  signal?: AbortSignal;
  /** Called after each piece: predictions scored so far and in all. */
  onProgress?: (scored: number, total: number) => void;
}

interface Task {
  request: ScoreRequest;
  signal: AbortSignal | undefined;
  resolve: (results: PredictionScore[]) => void;
  reject: (error: Error) => void;
}

const bootstrap = new URL('./bootstrap.mjs', import.meta.url);

/**
 * Scores predictions on worker threads, so a score pass never holds the event loop that serves the
 * gateway, heartbeats and model deadlines when everything runs in one process. A batch is cut into
 * pieces that go to whichever thread is free; the caller applies the batch's failure penalty, which
 * needs every piece. An idle thread is unref'd: an idle pool never keeps the process alive.
 */
export class ScoreThreads {
  private readonly size: number;
  private readonly chunkSize: number;
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Task>();
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;

  constructor(options: ScoreThreadsOptions = {}) {
    this.size = Math.max(1, Math.floor(options.threads ?? availableParallelism() - 1));
    this.chunkSize = Math.max(1, Math.floor(options.chunkSize ?? 32));
  }

  /** The scores of the predictions, in their order (before the batch's failure penalty). */
  async score(job: ScoreJob, progress: ScoreProgress = {}): Promise<PredictionScore[]> {
    const total = job.predictions.length;
    const pieces: Array<Promise<PredictionScore[]>> = [];
    const tasks: Task[] = [];
    let scored = 0;
    for (let start = 0; start < total; start += this.chunkSize) {
      const predictions = job.predictions.slice(start, start + this.chunkSize);
      const series: Record<string, SeriesArrays> = {};
      for (const { asset } of predictions) {
        const found = job.series.get(asset);
        if (found && !series[asset]) series[asset] = { times: found.times, prices: found.prices };
      }
      const request: ScoreRequest = {
        id: this.nextId++,
        game: job.game,
        ...(job.scorer ? { scorer: job.scorer } : {}),
        predictions,
        series,
      };
      pieces.push(
        this.run(request, progress.signal, tasks).then((results) => {
          scored += predictions.length;
          progress.onProgress?.(scored, total);
          return results;
        }),
      );
    }
    // One listener for the whole job: pieces still queued fail at once, a piece being scored finishes.
    const cancel = () => {
      for (const task of tasks) {
        const index = this.queue.indexOf(task);
        if (index >= 0) this.queue.splice(index, 1);
        task.reject(new Error('scoring was cancelled'));
      }
    };
    progress.signal?.addEventListener('abort', cancel, { once: true });
    try {
      return (await Promise.all(pieces)).flat();
    } finally {
      progress.signal?.removeEventListener('abort', cancel);
    }
  }

  /** Stops every thread; pieces still queued fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.reject(new Error('the scoring threads were closed'));
    const threads = [...this.idle.splice(0), ...this.busy.keys()];
    await Promise.all(threads.map((thread) => thread.terminate()));
  }

  private run(request: ScoreRequest, signal: AbortSignal | undefined, tasks: Task[]): Promise<PredictionScore[]> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('the scoring threads were closed'));
      if (signal?.aborted) return reject(new Error('scoring was cancelled'));
      const task: Task = { request, signal, resolve, reject };
      tasks.push(task);
      this.queue.push(task);
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let thread = this.idle.pop();
      if (!thread && this.busy.size < this.size) thread = this.spawn();
      if (!thread) return;
      const task = this.queue.shift() as Task;
      if (task.signal?.aborted) {
        this.idle.push(thread);
        continue;
      }
      this.busy.set(thread, task);
      // Held while it scores (the caller awaits it), let go when idle: it never keeps a process alive.
      thread.ref();
      thread.postMessage(task.request);
    }
  }

  private spawn(): Worker {
    const thread = new Worker(bootstrap);
    thread.on('message', (reply: ScoreReply) => {
      const task = this.busy.get(thread);
      this.busy.delete(thread);
      thread.unref();
      if (!this.closed) this.idle.push(thread);
      if (task) {
        if ('error' in reply) task.reject(new Error(reply.error));
        else task.resolve(reply.results);
      }
      this.dispatch();
    });
    const lost = (error: Error) => {
      const task = this.busy.get(thread);
      this.busy.delete(thread);
      const index = this.idle.indexOf(thread);
      if (index >= 0) this.idle.splice(index, 1);
      task?.reject(error);
      if (!this.closed) this.dispatch();
    };
    thread.on('error', lost);
    thread.on('exit', (code) => lost(new Error(`a scoring thread exited (code ${code})`)));
    return thread;
  }
}
