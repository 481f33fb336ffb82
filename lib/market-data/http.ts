// What the HTTP price sources share: one GET of a JSON document (timeout, retries, status, parsing),
// validation of its body, and the columnar answers both APIs send. Each source keeps its own format.
import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
import { createLogger, type Logger } from '../log/index.js';
import { checkRequest, normalisePoints, type PricePoint, PriceSourceError, splitRange } from './source.js';

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

/**
 * What an error answer says: the message of a JSON error body (`{"error": ...}`, `{"message": ...}`,
 * `{"errmsg": ...}`, `{"detail": ...}`) rather than its JSON, else the start of the text.
 */
export function errorText(text: string): string {
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body === 'object' && body !== null) {
      for (const key of ['error', 'message', 'errmsg', 'detail']) {
        const value = (body as Record<string, unknown>)[key];
        if (typeof value === 'string' && value.trim() !== '') return value.slice(0, 200);
      }
    }
  } catch {
    // Not JSON: the text itself is the best account there is.
  }
  return text.slice(0, 200);
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
    const reason = `the server answered ${response.status} ${response.statusText}: ${errorText(text)}`.trim();
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

export interface JsonEndpointOptions extends HttpOptions {
  logger?: Logger;
}

/** One JSON API path of a source: `get` asks it with a query and checks the answer's shape. */
export interface JsonEndpoint {
  readonly url: URL;
  /**
   * GET the path with `query` and validate the body with `schema`; a body of another shape throws
   * PriceSourceError naming the first wrong field and `expected` (the right shape, for the reader).
   * Returns the URL asked too, for the source's own error messages.
   */
  get<T>(
    query: Record<string, string>,
    schema: z.ZodType<T, z.ZodTypeDef, unknown>,
    expected: string,
  ): Promise<{ url: URL; body: T }>;
}

/** `path` under `baseUrl` for `source`; throws PriceSourceError at once when baseUrl is not a URL. */
export function jsonEndpoint(
  source: string,
  baseUrl: string,
  path: string,
  options: JsonEndpointOptions,
): JsonEndpoint {
  const base = endpoint(source, baseUrl, path);
  const logger = options.logger ?? createLogger('market-data', { source });
  return {
    url: base,
    async get(query, schema, expected) {
      const url = new URL(base);
      url.search = new URLSearchParams(query).toString();
      const parsed = schema.safeParse(await getJson(source, url, options, logger));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new PriceSourceError(
          source,
          `GET ${url} answered with an unexpected body (${issue?.path.join('.') || 'body'}: ${issue?.message}); ` +
            `expected ${expected}`,
        );
      }
      return { url, body: parsed.data };
    },
  };
}

/**
 * The points of a columnar answer (times in one list, prices in another, as both APIs send them);
 * a null price is a gap. Lists of different lengths are an unusable answer.
 */
export function columnPoints(
  source: string,
  url: URL,
  times: { name: string; values: readonly number[] },
  prices: { name: string; values: readonly (number | null)[] },
): PricePoint[] {
  if (times.values.length !== prices.values.length) {
    throw new PriceSourceError(
      source,
      `GET ${url} answered with ${times.name} and ${prices.name} of different lengths ` +
        `(${times.values.length} and ${prices.values.length})`,
    );
  }
  const points: PricePoint[] = [];
  times.values.forEach((ts, i) => {
    const price = prices.values[i];
    if (price !== null && price !== undefined) points.push({ ts, price });
  });
  return points;
}

/**
 * A PriceSource's fetch for an API that caps the range of one request: checks the arguments, asks
 * `fetchSpan` for consecutive spans of at most `maxSpanSec`, and merges what they answer (overlaps,
 * points outside the range and unusable prices dropped).
 */
export async function fetchInSpans(
  source: string,
  request: { asset: string; fromSec: number; toSec: number; maxSpanSec: number },
  fetchSpan: (fromSec: number, toSec: number) => Promise<readonly PricePoint[]>,
): Promise<PricePoint[]> {
  const { asset, fromSec, toSec, maxSpanSec } = request;
  checkRequest(source, asset, fromSec, toSec);
  const points: PricePoint[] = [];
  for (const [from, to] of splitRange(fromSec, toSec, maxSpanSec)) {
    for (const point of await fetchSpan(from, to)) points.push(point);
  }
  return normalisePoints(points, fromSec, toSec);
}
