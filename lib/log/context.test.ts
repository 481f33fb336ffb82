import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { logContextFields, withLogContext } from './index.js';

describe('withLogContext', () => {
  it('binds fields to every line written while work runs, across awaits, without mixing concurrent runs', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    // Configured as the root logger is (the root one is silent under the test runner).
    const logger = pino({ base: null, timestamp: false, mixin: logContextFields }, sink).child({ component: 'x' });
    const run = (runId: string, delayMs: number) =>
      withLogContext({ runId, attempt: 1 }, async () => {
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        withLogContext({ attempt: 2 }, () => logger.info('retried'));
        logger.info('done');
      });
    await Promise.all([run('a', 20), run('b', 5)]);
    logger.info('outside');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map(({ level: _level, ...line }) => line)).toEqual([
      { component: 'x', runId: 'b', attempt: 2, msg: 'retried' },
      { component: 'x', runId: 'b', attempt: 1, msg: 'done' },
      { component: 'x', runId: 'a', attempt: 2, msg: 'retried' },
      { component: 'x', runId: 'a', attempt: 1, msg: 'done' },
      { component: 'x', msg: 'outside' },
    ]);
  });
});
