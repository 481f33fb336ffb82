import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { logContextFields } from './index.js';

/**
 * For tests: a logger configured as the root one (with the log context's fields) whose lines land,
 * parsed, in `lines` (without pid, time or level), since the root logger is silent under the test runner.
 */
export function captureLogLines(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      const { level: _level, ...line } = JSON.parse(String(chunk)) as Record<string, unknown>;
      lines.push(line);
      done();
    },
  });
  return { logger: pino({ base: null, timestamp: false, mixin: logContextFields }, sink), lines };
}
