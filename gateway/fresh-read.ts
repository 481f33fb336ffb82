export interface FreshReadOptions {
  /**
   * A successful read may answer callers until it is this old (counted from when it started). 0: every
   * caller gets a read that started after it asked.
   */
  maxAgeMs?: number;
  /** The clock, in milliseconds (tests pass their own). */
  now?: () => number;
}

/**
 * Shares one read among concurrent callers, never answering a caller with a value older than allowed.
 * With `maxAgeMs` 0, a caller that arrives while a read is in flight cannot use that read (it may predate
 * the caller's request), so it waits for the next one, which all such callers share: at most one read
 * runs and one waits, however many requests arrive, and every answer is as fresh as a query per request
 * would give. A positive `maxAgeMs` also lets callers use the last successful read, or the running one,
 * while it is younger than that (counted from its start), so under load the read runs about once per
 * `maxAgeMs`.
 */
export class FreshRead<T> {
  private running: Promise<T> | undefined;
  private runningStartedAt = 0;
  private queued: Promise<T> | undefined;
  private last: { value: T; startedAt: number } | undefined;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(
    private readonly fetch: () => Promise<T>,
    options: FreshReadOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? 0;
    this.now = options.now ?? Date.now;
  }

  get(): Promise<T> {
    if (this.last && this.now() - this.last.startedAt < this.maxAgeMs) return Promise.resolve(this.last.value);
    // A queued read starts after this call, so joining it is always fresh enough.
    if (this.queued) return this.queued;
    if (!this.running) return this.start();
    // A running read that started less than maxAgeMs ago is fresh enough too (never with 0).
    if (this.now() - this.runningStartedAt < this.maxAgeMs) return this.running;
    const settled = this.running.then(
      () => undefined,
      () => undefined,
    );
    const queued = settled.then(() => {
      this.queued = undefined;
      return this.start();
    });
    this.queued = queued;
    return queued;
  }

  private start(): Promise<T> {
    const startedAt = this.now();
    // The executor turns a synchronous throw of fetch into a rejection like any other failed read.
    const read = new Promise<T>((resolve) => resolve(this.fetch()))
      .then((value) => {
        if (!this.last || startedAt >= this.last.startedAt) this.last = { value, startedAt };
        return value;
      })
      .finally(() => {
        if (this.running === read) this.running = undefined;
      });
    this.running = read;
    this.runningStartedAt = startedAt;
    return read;
  }
}
