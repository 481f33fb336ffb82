import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { checkRequest, normalisePoints, type PricePoint, type PriceSource, PriceSourceError } from './source.js';

export type PriceSeries = Record<string, PricePoint[]>;

export interface FileReplayOptions {
  /** Added to every recorded timestamp, e.g. to replay last month's recording as if it were live. */
  offsetSec?: number;
}

const NAME = 'file';

function fail(where: string, message: string): never {
  throw new PriceSourceError(NAME, `${where}: ${message}`);
}

function parseTime(value: string, where: string): number {
  const trimmed = value.trim();
  const seconds = Number(trimmed);
  if (trimmed !== '' && Number.isFinite(seconds)) return seconds;
  const parsed = Date.parse(trimmed);
  if (Number.isFinite(parsed)) return parsed / 1000;
  return fail(where, `ts "${value}" is neither unix seconds nor an ISO-8601 time`);
}

/** The tick format models receive: `{"BTC": [[ts_seconds, price], ...], ...}`. */
export function parseTickJson(text: string, origin = 'JSON'): PriceSeries {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return fail(origin, `not valid JSON (${(error as Error).message})`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return fail(origin, 'expected an object of the form {"BTC": [[ts_seconds, price], ...]}');
  }
  const series: PriceSeries = {};
  for (const [asset, points] of Object.entries(data)) {
    if (!Array.isArray(points)) fail(origin, `${asset} must be a list of [ts_seconds, price] pairs`);
    series[asset] = points.map((pair: unknown, index: number) => {
      const ok =
        Array.isArray(pair) &&
        pair.length === 2 &&
        typeof pair[0] === 'number' &&
        Number.isFinite(pair[0]) &&
        typeof pair[1] === 'number' &&
        Number.isFinite(pair[1]) &&
        pair[1] > 0;
      if (!ok) {
        fail(origin, `${asset}[${index}] must be [ts_seconds, price > 0] (two numbers), got ${JSON.stringify(pair)}`);
      }
      return { ts: pair[0], price: pair[1] };
    });
  }
  return series;
}

/** CSV lines `asset,ts,price` (ts in unix seconds or ISO-8601), with or without that header line. */
export function parsePriceCsv(text: string, origin = 'CSV'): PriceSeries {
  const series: PriceSeries = {};
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    const where = `${origin} line ${index + 1}`;
    if (line.trim() === '') return;
    const cells = line.split(',').map((cell) => cell.trim());
    if (index === 0 && cells.join(',').toLowerCase() === 'asset,ts,price') return;
    if (cells.length !== 3) fail(where, `expected "asset,ts,price", got "${line}"`);
    const [asset = '', ts = '', priceText = ''] = cells;
    if (asset === '') fail(where, 'the asset is empty');
    const price = Number(priceText);
    if (priceText === '' || !Number.isFinite(price) || price <= 0) {
      fail(where, `price "${priceText}" is not a positive number`);
    }
    series[asset] ??= [];
    series[asset].push({ ts: parseTime(ts, where), price });
  });
  return series;
}

/** Replays recorded prices: a JSON file in the tick format or a CSV file of asset,ts,price. */
export class FileReplaySource implements PriceSource {
  readonly name = NAME;
  private readonly series = new Map<string, PricePoint[]>();

  constructor(series: PriceSeries, options: FileReplayOptions = {}) {
    const offset = options.offsetSec ?? 0;
    for (const [asset, points] of Object.entries(series)) {
      const shifted = points.map((point) => ({ ts: point.ts + offset, price: point.price }));
      this.series.set(asset, normalisePoints(shifted, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY));
    }
  }

  /** Reads a .json (tick format) or .csv file; other names are recognised by their content. */
  static async fromFile(path: string, options: FileReplayOptions = {}): Promise<FileReplaySource> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      return fail(path, `cannot read the price file (${(error as NodeJS.ErrnoException).code ?? error})`);
    }
    const extension = extname(path).toLowerCase();
    const json = extension === '.json' || (extension !== '.csv' && text.trimStart().startsWith('{'));
    return new FileReplaySource(json ? parseTickJson(text, path) : parsePriceCsv(text, path), options);
  }

  /** The assets the recording holds. */
  assets(): string[] {
    return [...this.series.keys()];
  }

  async fetch(asset: string, fromSec: number, toSec: number): Promise<PricePoint[]> {
    checkRequest(this.name, asset, fromSec, toSec);
    const points = this.series.get(asset) ?? [];
    const start = firstIndex(points, (point) => point.ts >= fromSec);
    const end = firstIndex(points, (point) => point.ts > toSec);
    return points.slice(start, end);
  }
}

/** Binary search in points sorted by time: the first index where `reached` holds (length if none). */
function firstIndex(points: readonly PricePoint[], reached: (point: PricePoint) => boolean): number {
  let low = 0;
  let high = points.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (reached(points[middle]!)) high = middle;
    else low = middle + 1;
  }
  return low;
}
