import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPriceSource,
  FallbackSource,
  FileReplaySource,
  type PricePoint,
  type PriceSource,
  SyntheticSource,
} from '../lib/market-data/index.js';

const T0 = 1_750_000_020; // a whole minute
let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'market-data-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function file(name: string, content: string): Promise<string> {
  const path = join(directory, name);
  await writeFile(path, content);
  return path;
}

describe('FileReplaySource', () => {
  it('replays the JSON tick format, range-filtered and sorted', async () => {
    const path = await file(
      'ticks.json',
      JSON.stringify({
        BTC: [
          [T0 + 120, 102],
          [T0, 100],
          [T0 + 60, 101],
        ],
        ETH: [[T0, 3000]],
      }),
    );
    const source = await FileReplaySource.fromFile(path);
    expect(source.assets()).toEqual(['BTC', 'ETH']);
    expect(await source.fetch('BTC', T0 + 1, T0 + 120)).toEqual([
      { ts: T0 + 60, price: 101 },
      { ts: T0 + 120, price: 102 },
    ]);
    expect(await source.fetch('BTC', T0, T0)).toEqual([{ ts: T0, price: 100 }]);
    expect(await source.fetch('SOL', T0, T0 + 600)).toEqual([]);
  });

  it('replays CSV with or without a header, ISO times allowed, and shifts time when asked', async () => {
    const csv = ['asset,ts,price', `BTC,${T0},100`, '', 'BTC,2025-06-15T15:08:00Z,101.5', `ETH , ${T0} , 3000`].join(
      '\n',
    );
    const withHeader = await FileReplaySource.fromFile(await file('prices.csv', csv));
    expect(await withHeader.fetch('BTC', 0, 2e9)).toEqual([
      { ts: T0, price: 100 },
      { ts: Date.parse('2025-06-15T15:08:00Z') / 1000, price: 101.5 },
    ]);
    expect(await withHeader.fetch('ETH', T0, T0)).toEqual([{ ts: T0, price: 3000 }]);
    const shifted = await FileReplaySource.fromFile(await file('plain.csv', `SOL,${T0},150\n`), { offsetSec: 3600 });
    expect(await shifted.fetch('SOL', 0, 2e9)).toEqual([{ ts: T0 + 3600, price: 150 }]);
  });

  it('recognises the format by content when the name does not say', async () => {
    const source = await FileReplaySource.fromFile(await file('recording', JSON.stringify({ XAU: [[T0, 2650]] })));
    expect(await source.fetch('XAU', T0, T0)).toEqual([{ ts: T0, price: 2650 }]);
  });

  it.each([
    ['broken.json', '{"BTC": [[1, 2]', /broken.json: not valid JSON/],
    ['list.json', '[[1, 2]]', /expected an object of the form/],
    ['pair.json', '{"BTC": [[1, 2, 3]]}', /BTC\[0\] must be \[ts_seconds, price > 0\]/],
    ['negative.json', '{"BTC": [[1, -2]]}', /BTC\[0\] must be/],
    ['columns.csv', 'BTC,1\n', /columns.csv line 1: expected "asset,ts,price"/],
    ['price.csv', 'asset,ts,price\nBTC,1,abc\n', /price.csv line 2: price "abc" is not a positive number/],
    ['time.csv', 'BTC,yesterday,1\n', /time.csv line 1: ts "yesterday" is neither unix seconds nor an ISO-8601 time/],
  ])('explains a bad file: %s', async (name, content, message) => {
    await expect(FileReplaySource.fromFile(await file(name, content))).rejects.toThrow(message);
  });

  it('explains a missing file', async () => {
    await expect(FileReplaySource.fromFile(join(directory, 'nope.json'))).rejects.toThrow(
      /nope.json: cannot read the price file \(ENOENT\)/,
    );
  });
});

describe('FallbackSource', () => {
  // A pricedb server whose health the test switches.
  let server: Server;
  let healthy = false;
  let url: string;

  beforeAll(async () => {
    server = createServer((_request, response) => {
      response.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json', connection: 'close' });
      response.end(healthy ? JSON.stringify({ timestamp: [T0], close: [42] }) : 'down');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  function capturingLogger() {
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    return { logger, lines };
  }

  it('uses the fallback while the primary fails, and the primary again once it answers, saying so once each', async () => {
    const { logger, lines } = capturingLogger();
    const primary = await createPriceSource(`pricedb:${url}`, { logger });
    const recording = new FileReplaySource({
      BTC: [
        { ts: T0, price: 41 },
        { ts: T0 + 60, price: 43 },
      ],
    });
    const source = new FallbackSource(primary, recording, { logger });

    healthy = false;
    const fromFallback = await source.fetch('BTC', T0, T0 + 60);
    // Each point says which source answered it: that is what the prices table records.
    expect(fromFallback).toEqual([
      { ts: T0, price: 41, source: 'file' },
      { ts: T0 + 60, price: 43, source: 'file' },
    ]);
    expect(source.current).toBe('file');
    await source.fetch('BTC', T0, T0 + 60);
    healthy = true;
    expect(await source.fetch('BTC', T0, T0 + 60)).toEqual([{ ts: T0, price: 42, source: 'pricedb' }]);
    expect(source.current).toBe('pricedb');

    const messages = lines.filter((line) => /instead/.test(line.msg)).map((line) => line.msg);
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatch(/^price source pricedb failed \(pricedb: GET .* 503 .*\): using file instead$/);
    expect(messages[1]).toBe('price source pricedb answers again: using it instead of file');
  });

  it('never falls back to synthetic prices: a chain is of real sources only', async () => {
    const primary = await createPriceSource('pricedb:http://127.0.0.1:1');
    expect(() => new FallbackSource(primary, new SyntheticSource({ seed: 1 }))).toThrow(
      /a synthetic price source cannot be part of a fallback chain/,
    );
    await expect(createPriceSource('pricedb:http://127.0.0.1:1|synthetic:1')).rejects.toThrow(
      /never falls back to made-up prices/,
    );
  });

  it('treats an empty answer as an answer, and reports both failures when both fail', async () => {
    const empty: PriceSource = { name: 'empty', fetch: async () => [] };
    const broken = (name: string): PriceSource => ({
      name,
      fetch: async (): Promise<PricePoint[]> => {
        throw new Error(`${name} is down`);
      },
    });
    const never: PriceSource = broken('never-asked');
    expect(await new FallbackSource(empty, never).fetch('BTC', T0, T0)).toEqual([]);
    await expect(new FallbackSource(broken('a'), broken('b')).fetch('BTC', T0, T0)).rejects.toThrow(
      'no price source answered for BTC: a is down; then b is down',
    );
  });
});

describe('createPriceSource', () => {
  it('builds each source from a one-line description', async () => {
    const path = await file('spec.json', JSON.stringify({ BTC: [[T0, 1]] }));
    expect((await createPriceSource('pricedb:http://127.0.0.1:1')).name).toBe('pricedb');
    expect((await createPriceSource('pyth:http://127.0.0.1:1')).name).toBe('pyth');
    expect((await createPriceSource(`file:${path}`)).name).toBe('file');
    const synthetic = await createPriceSource('synthetic:9', { clock: () => T0 });
    expect(await synthetic.fetch('BTC', T0, T0)).toEqual(
      await new SyntheticSource({ seed: '9', clock: () => T0 }).fetch('BTC', T0, T0),
    );
    expect((await createPriceSource('pricedb:http://127.0.0.1:1 | pyth:http://127.0.0.1:2')).name).toBe(
      'pricedb, else pyth',
    );
  });

  it('explains a description it cannot use', async () => {
    await expect(createPriceSource('coingecko:x')).rejects.toThrow(
      /unknown price source "coingecko:x"; use pricedb:URL/,
    );
    await expect(createPriceSource('pricedb')).rejects.toThrow(/needs URL, e.g. pricedb:URL/);
    await expect(createPriceSource('a|b|c')).rejects.toThrow(/at most one fallback/);
  });
});
