// What the HTTP price sources share: one GET of a JSON document (timeout, size cap, status, parsing),
// validation of its body, and the columnar answers both APIs send. Each source keeps its own format.
// There is no retry loop here: a fetch runs inside an activity, and Temporal's retry policy (visible in
// the Web UI) retries the activity; a loop of our own would hide failures and multiply the wait.
import type { z } from 'zod';
import type { Logger } from '../log/index.js';
import { checkRequest, normalisePoints, type PricePoint, PriceSourceError, splitRange } from './source.js';

export interface HttpOptions {
  /** One request, headers and body included (default 10 s). */
  timeoutMs?: number;
  /** Largest answer accepted, in bytes (default 4 MiB; a day of minutes is about 50 KB). */
  maxBytes?: number;
}

export const httpDefaults = { timeoutMs: 10_000, maxBytes: 4 * 1024 * 1024 } satisfies Required<HttpOptions>;

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

class TooLarge extends Error {}

/** The body as text, refusing more than maxBytes (announced or received) without reading the rest. */
async function boundedText(response: Response, maxBytes: number): Promise<string> {
  const announced = Number(response.headers.get('content-length'));
  if (Number.isFinite(announced) && announced > maxBytes) {
    await response.body?.cancel();
    throw new TooLarge(`announced ${announced} bytes`);
  }
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new TooLarge(`more than ${maxBytes} bytes received`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * GET a JSON document once. Any failure (timeout, network error, an error status, an answer over the
 * size cap, a body that is not JSON) throws PriceSourceError with the URL and the reason.
 */
export async function getJson(source: string, url: URL, options: HttpOptions): Promise<unknown> {
  const { timeoutMs, maxBytes } = { ...httpDefaults, ...options };
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    text = await boundedText(response, maxBytes);
  } catch (error) {
    if (error instanceof TooLarge) {
      throw new PriceSourceError(source, `GET ${url} answered more than the ${maxBytes}-byte cap (${error.message})`);
    }
    throw new PriceSourceError(source, `GET ${url} failed: ${describe(error, timeoutMs)}`, { cause: error });
  }
  if (!response.ok) {
    const reason = `the server answered ${response.status} ${response.statusText}: ${errorText(text)}`.trim();
    throw new PriceSourceError(source, `GET ${url} failed: ${reason}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new PriceSourceError(source, `GET ${url} answered with a body that is not JSON: ${text.slice(0, 200)}`);
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
  /** Kept for the sources' signatures; the helper itself logs nothing (the activity does). */
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
  return {
    url: base,
    async get(query, schema, expected) {
      const url = new URL(base);
      url.search = new URLSearchParams(query).toString();
      const parsed = schema.safeParse(await getJson(source, url, options));
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
