import { Context } from '@temporalio/activity';

/**
 * Runs `work` while heartbeating every `everyMs`, so a worker that dies mid-activity is noticed within
 * the heartbeat timeout (not the much longer start-to-close timeout) and the activity retried elsewhere.
 * Heartbeats are also how Temporal's cancellation reaches the activity: `work` gets the activity's
 * cancellation signal, aborted when the workflow cancels it or the attempt times out, and passes it
 * to what it waits on (model calls) so a cancelled attempt stops at once.
 */
export async function withHeartbeat<T>(work: (signal: AbortSignal) => Promise<T>, everyMs = 2_000): Promise<T> {
  const context = Context.current();
  context.heartbeat();
  const timer = setInterval(() => context.heartbeat(), everyMs);
  try {
    return await work(context.cancellationSignal);
  } finally {
    clearInterval(timer);
  }
}
