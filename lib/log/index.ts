import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * The process-wide root logger. JSON lines (pino) on stdout; LOG_LEVEL sets the level (default info,
 * silent under the test runner unless LOG_LEVEL is set).
 */
const logContext = new AsyncLocalStorage<Record<string, unknown>>();

/**
 * Runs `work` with `bindings` added to every line any logger writes while it runs (its awaits and
 * callbacks included): e.g. the workflow, run and attempt an activity belongs to, without passing a
 * child logger through every call.
 */
export function withLogContext<T>(bindings: Record<string, unknown>, work: () => T): T {
  return logContext.run({ ...logContext.getStore(), ...bindings }, work);
}

/** The fields withLogContext has bound at this point (the loggers' mixin). */
export function logContextFields(): Record<string, unknown> {
  return logContext.getStore() ?? {};
}

export const rootLogger: Logger = pino({
  level: process.env.LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info'),
  base: { pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
  mixin: logContextFields,
});

/** A child logger for one component, e.g. `createLogger('orchestrator')`. */
export function createLogger(component: string, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger.child({ component, ...bindings });
}

export { type EventLoopWatch, watchEventLoop } from './event-loop.js';
