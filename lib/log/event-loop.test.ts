import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { watchEventLoop } from './event-loop.js';

describe('watchEventLoop', () => {
  it('warns, with the p99 delay, when something blocks the event loop', async () => {
    const lines: Array<{ level: number; msg: string; eventLoopDelayP99Ms: number }> = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const watch = watchEventLoop(pino({ level: 'info' }, sink), { everyMs: 500, warnAboveMs: 100 });
    try {
      await new Promise((r) => setTimeout(r, 50)); // the monitor's timer is armed on the next turn
      const until = Date.now() + 300;
      while (Date.now() < until) {
        // a score pass computed in line would do this
      }
      const deadline = Date.now() + 10_000;
      while (lines.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } finally {
      watch.stop();
    }
    expect(lines[0]?.level).toBe(40); // warn
    expect(lines[0]?.eventLoopDelayP99Ms).toBeGreaterThan(100);
    expect(lines[0]?.msg).toMatch(/event loop delay .* p99 .* something is blocking the event loop/);
  });
});
