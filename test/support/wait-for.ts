export interface WaitOptions {
  /** Between two probes (default 1 s). */
  intervalMs?: number;
  /** Called before each probe: it throws to end the wait at once (a process that should run has exited). */
  stillUp?: () => void;
}

/**
 * Polls `probe` until it returns a value, for at most `timeoutMs`; the error names what was awaited and
 * the probe's last error. For tests that watch a whole running stack.
 */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  options: WaitOptions = {},
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < until) {
    options.stillUp?.();
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 1000));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
}
