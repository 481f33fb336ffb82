import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Logger } from 'pino';

export interface EventLoopWatch {
  stop(): void;
}

/**
 * Logs the event loop's delay (p99 and max) over each period: what a model deadline, a heartbeat or a
 * gateway request waited at worst in this process. Above `warnAboveMs` it is a warning, since
 * something is computing on the loop that should not (scoring runs on threads of its own).
 */
export function watchEventLoop(
  logger: Logger,
  options: { everyMs?: number; warnAboveMs?: number } = {},
): EventLoopWatch {
  const everyMs = options.everyMs ?? 60_000;
  const warnAboveMs = options.warnAboveMs ?? 100;
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const timer = setInterval(() => {
    const p99Ms = histogram.percentile(99) / 1e6;
    const maxMs = histogram.max / 1e6;
    histogram.reset();
    const fields = {
      eventLoopDelayP99Ms: Math.round(p99Ms * 10) / 10,
      eventLoopDelayMaxMs: Math.round(maxMs * 10) / 10,
    };
    const message = `event loop delay over the last ${everyMs / 1000} s: p99 ${fields.eventLoopDelayP99Ms} ms, max ${fields.eventLoopDelayMaxMs} ms`;
    if (p99Ms > warnAboveMs) logger.warn(fields, `${message}: something is blocking the event loop`);
    else logger.info(fields, message);
  }, everyMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      histogram.disable();
    },
  };
}
