/**
 * Shares one read among concurrent callers without ever answering a caller with a value read before
 * it asked. A caller that arrives while a read is in flight cannot use that read (it may predate the
 * caller's request), so it waits for the next one, which all such callers share. So at most one read
 * runs and one waits, however many requests arrive, and every answer is at least as fresh as a read
 * started after its request: what a query per request would give, at a fraction of the queries.
 */
export class FreshRead<T> {
  private running: Promise<T> | undefined;
  private queued: Promise<T> | undefined;

  constructor(private readonly fetch: () => Promise<T>) {}

  get(): Promise<T> {
    // A queued read starts after this call, so joining it is always fresh enough.
    if (this.queued) return this.queued;
    if (!this.running) return this.start();
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
    // The executor turns a synchronous throw of fetch into a rejection like any other failed read.
    const read = new Promise<T>((resolve) => resolve(this.fetch())).finally(() => {
      if (this.running === read) this.running = undefined;
    });
    this.running = read;
    return read;
  }
}
