import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PriceDbSource, PriceSourceError, PythShimSource } from '../lib/market-data/index.js';

// A local HTTP server whose answers each test scripts; it records every request URL.
type Answer = { status?: number; body?: unknown; raw?: string; hang?: boolean; stall?: boolean; chunked?: string };
type Handler = (url: URL, request: IncomingMessage) => Answer;

let server: Server;
let baseUrl: string;
let handler: Handler;
let requests: URL[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    requests.push(url);
    const answer = handler(url, request);
    if (answer.hang) return; // never answers: the client's timeout must fire
    // No keep-alive: every attempt the client makes is a request the server sees and counts.
    const headers = { 'content-type': 'application/json', connection: 'close' };
    // Headers and the start of a body, then nothing: the timeout must cover the body too.
    if (answer.stall) {
      response.writeHead(answer.status ?? 200, headers);
      return void response.write('{"timestamp": [');
    }
    // Written in pieces with no content-length: the client must count what arrives.
    if (answer.chunked !== undefined) {
      response.writeHead(answer.status ?? 200, headers);
      for (let i = 0; i < answer.chunked.length; i += 512) response.write(answer.chunked.slice(i, i + 512));
      return void response.end();
    }
    const text = answer.raw ?? JSON.stringify(answer.body);
    response.writeHead(answer.status ?? 200, { ...headers, 'content-length': Buffer.byteLength(text) });
    response.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  requests = [];
  server.closeAllConnections();
  // Let the client see those sockets close before the next test opens one.
  await new Promise((resolve) => setTimeout(resolve, 20));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const fast = { timeoutMs: 300 };
const T0 = 1_750_000_020; // a whole minute

/** Minute closes for [from, to] from the query, as pricedb would send them. */
function minutesOf(url: URL, fromKey = 'from', toKey = 'to'): number[] {
  const from = Number(url.searchParams.get(fromKey));
  const to = Number(url.searchParams.get(toKey));
  const minutes: number[] = [];
  for (let ts = Math.ceil(from / 60) * 60; ts <= to; ts += 60) minutes.push(ts);
  return minutes;
}

describe('PriceDbSource', () => {
  const source = (options = {}) => new PriceDbSource({ baseUrl, ...fast, ...options });

  it('asks /v1/prices for the asset and range in minutes and returns the points sorted, gaps tolerated', async () => {
    // Out of order, a null close, a missing minute (T0+120) and a point outside the range.
    handler = () => ({
      body: { timestamp: [T0 + 180, T0, T0 + 60, T0 + 240, T0 + 9999], close: [103, 100, null, 104, 1] },
    });
    const points = await source().fetch('BTC', T0, T0 + 240);
    expect(points).toEqual([
      { ts: T0, price: 100 },
      { ts: T0 + 180, price: 103 },
      { ts: T0 + 240, price: 104 },
    ]);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.pathname).toBe('/v1/prices');
    expect(Object.fromEntries(requests[0]!.searchParams)).toEqual({
      asset: 'BTC',
      from: String(T0),
      to: String(T0 + 240),
      resolution: 'minute',
    });
  });

  it('splits a long range into requests of at most maxSpanSec and merges them without duplicates', async () => {
    handler = (url) => {
      const minutes = minutesOf(url);
      // Each answer repeats the previous request's last minute, as inclusive APIs do.
      const withOverlap = [minutes[0]! - 60, ...minutes];
      return { body: { timestamp: withOverlap, close: withOverlap.map((ts) => ts / 1e4) } };
    };
    const points = await source({ maxSpanSec: 3600 }).fetch('ETH', T0, T0 + 3 * 3600 - 60);
    expect(requests).toHaveLength(3);
    expect(requests.map((url) => Number(url.searchParams.get('from')))).toEqual([T0, T0 + 3600, T0 + 7200]);
    expect(points).toHaveLength(180);
    expect(new Set(points.map((point) => point.ts)).size).toBe(180);
  });

  it('keeps the base URL path prefix and accepts numeric strings as closes', async () => {
    handler = () => ({ body: { timestamp: [T0], close: ['101.5'] } });
    const points = await new PriceDbSource({ baseUrl: `${baseUrl}/pricedb/`, ...fast }).fetch('SOL', T0, T0);
    expect(points).toEqual([{ ts: T0, price: 101.5 }]);
    expect(requests[0]!.pathname).toBe('/pricedb/v1/prices');
  });

  it('fails a 5xx at once with the URL and the reason: retrying is left to the activity retry policy', async () => {
    handler = () => ({ status: 500, raw: 'database down' });
    const error = await source()
      .fetch('BTC', T0, T0 + 60)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PriceSourceError);
    expect((error as Error).message).toMatch(
      /^pricedb: GET http:\/\/127\.0\.0\.1:\d+\/v1\/prices\?asset=BTC.* failed: the server answered 500 Internal Server Error: database down$/,
    );
    expect(requests).toHaveLength(1);
  });

  it('times out a server that never answers', async () => {
    handler = () => ({ hang: true });
    await expect(source({ timeoutMs: 100 }).fetch('BTC', T0, T0)).rejects.toThrow(/failed: no answer within 100 ms/);
    expect(requests).toHaveLength(1);
  });

  it('does not retry a 4xx: the request itself is wrong', async () => {
    handler = () => ({ status: 404, raw: '{"error":"unknown asset"}' });
    await expect(source().fetch('NOPE', T0, T0)).rejects.toThrow(
      /failed: the server answered 404 Not Found: .*unknown asset/,
    );
    expect(requests).toHaveLength(1);
  });

  it.each([
    ['a body that is not JSON', { raw: '<html>oops</html>' }, /answered with a body that is not JSON: <html>oops/],
    ['a missing close list', { body: { timestamp: [T0] } }, /unexpected body \(close: Required\)/],
    ['lists of different lengths', { body: { timestamp: [T0, T0 + 60], close: [1] } }, /different lengths/],
    ['timestamps as strings', { body: { timestamp: ['x'], close: [1] } }, /unexpected body \(timestamp\.0: /],
    ['a JSON array', { body: [1, 2] }, /unexpected body/],
  ])('explains %s without retrying', async (_what, answer, message) => {
    handler = () => answer as Answer;
    await expect(source().fetch('BTC', T0, T0)).rejects.toThrow(message);
    expect(requests).toHaveLength(1);
  });

  it('says a connection was refused', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(
      new PriceDbSource({ baseUrl: `http://127.0.0.1:${port}`, ...fast }).fetch('BTC', T0, T0),
    ).rejects.toThrow(/failed: fetch failed: connect ECONNREFUSED/);
  });

  it('rejects bad arguments before any request', async () => {
    handler = () => ({ body: { timestamp: [], close: [] } });
    await expect(source().fetch('BTC', T0 + 60, T0)).rejects.toThrow(/the range is backwards/);
    await expect(source().fetch('', T0, T0)).rejects.toThrow(/asset must be a non-empty string/);
    await expect(source().fetch('BTC', Number.NaN, T0)).rejects.toThrow(/fromSec must be unix seconds/);
    expect(requests).toHaveLength(0);
    expect(() => new PriceDbSource({ baseUrl: 'not a url' })).toThrow(/baseUrl "not a url" is not a URL/);
  });
});

describe('PythShimSource', () => {
  const source = (options = {}) => new PythShimSource({ baseUrl, ...fast, ...options });

  it('asks the TradingView shim for Crypto.<ASSET>/USD at resolution 1 and reads t/c', async () => {
    handler = (url) => {
      const minutes = minutesOf(url).filter((ts) => ts !== T0 + 60); // a gap
      return { body: { s: 'ok', t: minutes, c: minutes.map((ts) => ts / 1e4), o: [], h: [], l: [], v: [] } };
    };
    const points = await source().fetch('BTC', T0, T0 + 180);
    expect(points.map((point) => point.ts)).toEqual([T0, T0 + 120, T0 + 180]);
    expect(requests[0]!.pathname).toBe('/v1/shims/tradingview/history');
    expect(Object.fromEntries(requests[0]!.searchParams)).toEqual({
      symbol: 'Crypto.BTC/USD',
      resolution: '1',
      from: String(T0),
      to: String(T0 + 180),
    });
  });

  it('asks for gold as Metal.XAU/USD and honours symbol overrides', async () => {
    handler = () => ({ body: { s: 'ok', t: [T0], c: [2650.5] } });
    await source().fetch('XAU', T0, T0);
    await source({ symbols: { XAUT: 'Metal.XAU/USD' } }).fetch('XAUT', T0, T0);
    expect(requests.map((url) => url.searchParams.get('symbol'))).toEqual(['Metal.XAU/USD', 'Metal.XAU/USD']);
  });

  it('reads s: no_data as no points', async () => {
    handler = () => ({ body: { s: 'no_data', nextTime: T0 - 86_400 } });
    expect(await source().fetch('BTC', T0, T0 + 600)).toEqual([]);
  });

  it('reports s: error with the shim message', async () => {
    handler = () => ({ body: { s: 'error', errmsg: 'Symbol not found' } });
    await expect(source().fetch('DOGE', T0, T0)).rejects.toThrow(/pyth: GET .* reported an error: Symbol not found/);
  });

  it('fails a 5xx once, answers when the server does, and explains a malformed body', async () => {
    handler = () => ({ status: 504, raw: '' });
    await expect(source().fetch('ETH', T0, T0)).rejects.toThrow(/failed: the server answered 504/);
    expect(requests).toHaveLength(1);
    handler = () => ({ body: { s: 'ok', t: [T0], c: [1] } });
    expect(await source().fetch('ETH', T0, T0)).toEqual([{ ts: T0, price: 1 }]);
    handler = () => ({ body: { s: 'ok', t: [T0, T0 + 60], c: [1] } });
    await expect(source().fetch('ETH', T0, T0 + 60)).rejects.toThrow(/t and c of different lengths/);
    handler = () => ({ body: { status: 'fine' } });
    await expect(source().fetch('ETH', T0, T0 + 60)).rejects.toThrow(/unexpected body .*"s": "ok"/);
  });
});

// What lib/market-data/http.ts does for every HTTP source, run against each of them.
describe.each([
  ['pricedb', (options = {}) => new PriceDbSource({ baseUrl, ...fast, ...options })],
  ['pyth', (options = {}) => new PythShimSource({ baseUrl, ...fast, ...options })],
])('%s over the shared HTTP helper', (name, source) => {
  it('gives the message of a JSON error body, not its JSON, and does not retry a 4xx', async () => {
    handler = () => ({ status: 400, body: { detail: 'from must be before to' } });
    const error = await source()
      .fetch('BTC', T0, T0)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PriceSourceError);
    expect((error as PriceSourceError).source).toBe(name);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^${name}: GET http://127\\.0\\.0\\.1:\\d+/\\S+ failed: the server answered 400 Bad Request: from must be before to$`,
      ),
    );
    expect(requests).toHaveLength(1);
  });

  it('gives the reason stated by the JSON body of a 5xx, after one request', async () => {
    handler = () => ({ status: 503, body: { error: 'maintenance until 12:00' } });
    await expect(source().fetch('BTC', T0, T0)).rejects.toThrow(
      /failed: the server answered 503 Service Unavailable: maintenance until 12:00$/,
    );
    expect(requests).toHaveLength(1);
  });

  it('shows an error body as text when it has no message field', async () => {
    handler = () => ({ status: 403, raw: '{"code":7}' });
    await expect(source().fetch('BTC', T0, T0)).rejects.toThrow(/answered 403 Forbidden: \{"code":7\}$/);
  });

  it('times out a body that starts and never ends', async () => {
    handler = () => ({ stall: true });
    await expect(source({ timeoutMs: 100 }).fetch('BTC', T0, T0)).rejects.toThrow(/failed: no answer within 100 ms$/);
    expect(requests).toHaveLength(1);
  });

  it('refuses an answer over the size cap, announced or not, without reading it all', async () => {
    handler = () => ({ raw: `{"timestamp": [], "close": [], "pad": "${'x'.repeat(4096)}"}` });
    await expect(source({ maxBytes: 1024 }).fetch('BTC', T0, T0)).rejects.toThrow(
      /answered more than the 1024-byte cap \(announced \d+ bytes\)$/,
    );
    handler = () => ({ chunked: 'x'.repeat(4096) });
    await expect(source({ maxBytes: 1024 }).fetch('BTC', T0, T0)).rejects.toThrow(
      /answered more than the 1024-byte cap \(more than 1024 bytes received\)$/,
    );
  });

  it('names a 200 answer that is not JSON, without retrying', async () => {
    handler = () => ({ raw: '{"s": "ok", "t": [1,' });
    await expect(source().fetch('BTC', T0, T0)).rejects.toThrow(
      new RegExp(`^${name}: GET \\S+ answered with a body that is not JSON: \\{"s": "ok", "t": \\[1,$`),
    );
    expect(requests).toHaveLength(1);
  });
});
