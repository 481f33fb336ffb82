import { describe, expect, it } from 'vitest';
import { captureLogLines } from './capture.js';
import { withLogContext } from './index.js';

describe('withLogContext', () => {
  it('binds fields to every line written while work runs, across awaits, without mixing concurrent runs', async () => {
    const { logger: root, lines } = captureLogLines();
    const logger = root.child({ component: 'x' });
    const run = (runId: string, delayMs: number) =>
      withLogContext({ runId, attempt: 1 }, async () => {
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        withLogContext({ attempt: 2 }, () => logger.info('retried'));
        logger.info('done');
      });
    await Promise.all([run('a', 20), run('b', 5)]);
    logger.info('outside');
    await new Promise((resolve) => setImmediate(resolve));
    // The two runs interleave; each line carries its own run's fields, whatever the order.
    expect(lines).toHaveLength(5);
    expect(lines.slice(0, 4)).toEqual(
      expect.arrayContaining([
        { component: 'x', runId: 'b', attempt: 2, msg: 'retried' },
        { component: 'x', runId: 'b', attempt: 1, msg: 'done' },
        { component: 'x', runId: 'a', attempt: 2, msg: 'retried' },
        { component: 'x', runId: 'a', attempt: 1, msg: 'done' },
      ]),
    );
    expect(lines[4]).toEqual({ component: 'x', msg: 'outside' });
  });
});
