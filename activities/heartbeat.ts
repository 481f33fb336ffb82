import { Context } from '@temporalio/activity';

/**
 * Runs `work` while heartbeating every `everyMs`, so a worker that dies mid-activity is noticed within
 * the heartbeat timeout (not the much longer start-to-close timeout) and the activity retried elsewhere.
 */
export async function withHeartbeat<T>(work: () => Promise<T>, everyMs = 2_000): Promise<T> {
  const context = Context.current();
  context.heartbeat();
  const timer = setInterval(() => context.heartbeat(), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
