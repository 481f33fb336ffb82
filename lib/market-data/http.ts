import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log/index.js';
import { PriceSourceError } from './source.js';

export interface HttpOptions {
  /** Per attempt, headers and body included (default 10 s). */
  timeoutMs?: number;
  /** Extra attempts after a timeout, network error, 429 or 5xx (default 3). Other answers fail at once. */
  retries?: number;
  /** Wait before the first retry; doubles each time (default 500 ms). */
  backoffMs?: number;
}

export const httpDefaults = { timeoutMs: 10_000, retries: 3, backoffMs: 500 } satisfies Required<HttpOptions>;

class Retryable extends Error {}

function describe(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${timeoutMs} ms`;
  }
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error instanceof Error ? error.message : String(error)}${cause}`;
}

async function attempt(source: string, url: URL, timeoutMs: number): Promise<unknown> {
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    text = await response.text();
  } catch (error) {
    throw new Retryable(describe(error, timeoutMs), { cause: error });
  }
  if (!response.ok) {
    const reason = `the server answered ${response.status} ${response.statusText}: ${text.slice(0, 200)}`.trim();
    if (response.status >= 500 || response.status === 429) throw new Retryable(reason);
    throw new PriceSourceError(source, `GET ${url} failed: ${reason}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new PriceSourceError(source, `GET ${url} answered with a body that is not JSON: ${text.slice(0, 200)}`);
  }
}

/**
 * GET a JSON document, retrying with exponential backoff on timeouts, network errors, 429 and 5xx.
 * Throws PriceSourceError with the URL and the last reason once attempts run out.
 */
export async function getJson(source: string, url: URL, options: HttpOptions, logger: Logger): Promise<unknown> {
  const { timeoutMs, retries, backoffMs } = { ...httpDefaults, ...options };
  for (let attemptNo = 0; ; attemptNo += 1) {
    try {
      return await attempt(source, url, timeoutMs);
    } catch (error) {
      if (!(error instanceof Retryable)) throw error;
      if (attemptNo >= retries) {
        throw new PriceSourceError(source, `GET ${url} failed after ${attemptNo + 1} attempts: ${error.message}`, {
          cause: error,
        });
      }
      const wait = backoffMs * 2 ** attemptNo;
      logger.warn(
        { url: url.toString(), reason: error.message, attempt: attemptNo + 1, retryInMs: wait },
        `price source ${source} did not answer properly (${error.message}); retrying in ${wait} ms`,
      );
      await sleep(wait);
    }
  }
}

/** `path` under `baseUrl`, keeping any path prefix the base has (http://host/api + v1/x -> /api/v1/x). */
export function endpoint(source: string, baseUrl: string, path: string): URL {
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    throw new PriceSourceError(source, `baseUrl "${baseUrl}" is not a URL`);
  }
  if (!base.pathname.endsWith('/')) base.pathname = `${base.pathname}/`;
  return new URL(path, base);
}
