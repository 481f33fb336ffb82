import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FreshRead } from './fresh-read.js';

/** A read whose completion the test controls; each read returns the "version" current when it started. */
function controlledSource() {
  let version = 0;
  const pending: Array<() => void> = [];
  let started = 0;
  const read = new FreshRead(async () => {
    started++;
    const seen = version;
    await new Promise<void>((resolve) => pending.push(resolve));
    return seen;
  });
  return {
    read,
    bump: () => ++version,
    get version() {
      return version;
    },
    get started() {
      return started;
    },
    finishOne: async () => {
      pending.shift()?.();
      // Let every promise callback (down to the queued read's start) run.
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

describe('FreshRead', () => {
  it('shares one read among callers that arrive together', async () => {
    const source = controlledSource();
    const answers = [source.read.get(), source.read.get(), source.read.get()];
    // The first starts a read; the other two arrived while it ran, so they share the next one.
    expect(source.started).toBe(1);
    await source.finishOne();
    expect(source.started).toBe(2);
    await source.finishOne();
    expect(await Promise.all(answers)).toEqual([0, 0, 0]);
    expect(source.started).toBe(2);
  });

  it('never answers a caller with a read that started before it asked', async () => {
    const source = controlledSource();
    const first = source.read.get();
    source.bump(); // a write lands after the first read started
    const second = source.read.get();
    await source.finishOne();
    await source.finishOne();
    expect(await first).toBe(0);
    expect(await second).toBe(1);
  });

  it('passes a failed read to its callers and recovers on the next', async () => {
    let fail = true;
    const read = new FreshRead(async () => {
      if (fail) throw new Error('database down');
      return 'ok';
    });
    await expect(read.get()).rejects.toThrow('database down');
    fail = false;
    await expect(read.get()).resolves.toBe('ok');
  });

  it('turns a synchronous throw into a rejection', async () => {
    const read = new FreshRead<number>(() => {
      throw new Error('sync');
    });
    await expect(read.get()).rejects.toThrow('sync');
  });

  it('keeps every answer at least as fresh as the caller, whatever the interleaving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom('call', 'write', 'finish'), { maxLength: 40 }), async (steps) => {
        const source = controlledSource();
        const calls: Array<{ versionAtCall: number; answer: Promise<number> }> = [];
        for (const step of steps) {
          if (step === 'call') calls.push({ versionAtCall: source.version, answer: source.read.get() });
          else if (step === 'write') source.bump();
          else await source.finishOne();
        }
        // Drain: at most one running and one queued read remain.
        for (let i = 0; i < 3; i++) await source.finishOne();
        for (const call of calls) expect(await call.answer).toBeGreaterThanOrEqual(call.versionAtCall);
        // Never more than one read started per caller.
        expect(source.started).toBeLessThanOrEqual(Math.max(calls.length, 0));
      }),
    );
  });
});

describe('FreshRead with maxAgeMs', () => {
  it('reuses a successful read while it is younger than maxAgeMs, then reads again', async () => {
    let clock = 1_000;
    let reads = 0;
    const read = new FreshRead(async () => ++reads, { maxAgeMs: 250, now: () => clock });
    expect(await read.get()).toBe(1);
    clock += 249;
    expect(await read.get()).toBe(1);
    clock += 1; // 250 ms after the read started: too old
    expect(await read.get()).toBe(2);
    expect(reads).toBe(2);
  });

  it('does not reuse a failed read', async () => {
    let reads = 0;
    const read = new FreshRead(
      async () => {
        reads++;
        if (reads === 1) throw new Error('down');
        return reads;
      },
      { maxAgeMs: 10_000 },
    );
    await expect(read.get()).rejects.toThrow('down');
    expect(await read.get()).toBe(2);
    expect(await read.get()).toBe(2);
  });
});

describe('FreshRead with maxAgeMs, while a read runs', () => {
  it('joins a running read younger than maxAgeMs instead of queueing another', async () => {
    let clock = 0;
    let reads = 0;
    const release: Array<() => void> = [];
    const read = new FreshRead(
      async () => {
        reads++;
        await new Promise<void>((resolve) => release.push(resolve));
        return reads;
      },
      { maxAgeMs: 100, now: () => clock },
    );
    const first = read.get();
    clock = 50;
    const second = read.get(); // the running read started 50 ms ago: fresh enough
    clock = 150;
    const third = read.get(); // 150 ms: too old, so it queues a new read
    release.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
    release.shift()?.();
    expect(await Promise.all([first, second, third])).toEqual([1, 1, 2]);
    expect(reads).toBe(2);
  });
});
