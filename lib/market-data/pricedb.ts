import { z } from 'zod';
import type { Logger } from '../log/index.js';
import { columnPoints, fetchInSpans, type HttpOptions, type JsonEndpoint, jsonEndpoint } from './http.js';
import type { PricePoint, PriceSource } from './source.js';

export interface PriceDbOptions extends HttpOptions {
  /** e.g. `https://api--pricedb--tournament.crunchdao.cloud` (the path /v1/prices is added). */
  baseUrl: string;
  /** Longest range asked in one request (default 1 day: 1,440 minutes); longer ranges are split. */
  maxSpanSec?: number;
  logger?: Logger;
}

// Closes may be null (a gap) or, as some deployments send them, numeric strings.
const close = z.union([
  z.number(),
  z
    .string()
    .regex(/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/)
    .transform(Number),
  z.null(),
]);
const body = z.object({ timestamp: z.array(z.number().finite()), close: z.array(close) });
const expected = '{"timestamp": [unix seconds...], "close": [prices...]}';

/** CrunchDAO's price database: GET /v1/prices?asset=&from=&to=&resolution=minute -> {timestamp[], close[]}. */
export class PriceDbSource implements PriceSource {
  readonly name = 'pricedb';
  private readonly api: JsonEndpoint;

  constructor(private readonly options: PriceDbOptions) {
    this.api = jsonEndpoint(this.name, options.baseUrl, 'v1/prices', options);
  }

  fetch(asset: string, fromSec: number, toSec: number): Promise<PricePoint[]> {
    const maxSpanSec = this.options.maxSpanSec ?? 86_400;
    return fetchInSpans(this.name, { asset, fromSec, toSec, maxSpanSec }, async (from, to) => {
      const query = { asset, from: String(from), to: String(to), resolution: 'minute' };
      const { url, body: answer } = await this.api.get(query, body, expected);
      return columnPoints(
        this.name,
        url,
        { name: 'timestamp', values: answer.timestamp },
        { name: 'close', values: answer.close },
      );
    });
  }
}
