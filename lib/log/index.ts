import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * The process-wide root logger. JSON lines (pino) on stdout; LOG_LEVEL sets the level (default info,
 * silent under the test runner unless LOG_LEVEL is set).
 */
export const rootLogger: Logger = pino({
  level: process.env.LOG_LEVEL ?? (process.env.VITEST ? 'silent' : 'info'),
  base: { pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
});

/** A child logger for one component, e.g. `createLogger('orchestrator')`. */
export function createLogger(component: string, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger.child({ component, ...bindings });
}

export { type EventLoopWatch, watchEventLoop } from './event-loop.js';
