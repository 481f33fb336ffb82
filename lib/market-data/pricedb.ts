import { z } from 'zod';
import { createLogger, type Logger } from '../log/index.js';
import { endpoint, getJson, type HttpOptions } from './http.js';
import {
  checkRequest,
  normalisePoints,
  type PricePoint,
  type PriceSource,
  PriceSourceError,
  splitRange,
} from './source.js';

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
const body = z
  .object({ timestamp: z.array(z.number().finite()), close: z.array(close) })
  .refine((value) => value.timestamp.length === value.close.length, {
    message: 'timestamp and close have different lengths',
  });

/** CrunchDAO's price database: GET /v1/prices?asset=&from=&to=&resolution=minute -> {timestamp[], close[]}. */
export class PriceDbSource implements PriceSource {
  readonly name = 'pricedb';
  private readonly endpoint: URL;
  private readonly logger: Logger;

  constructor(private readonly options: PriceDbOptions) {
    this.endpoint = endpoint(this.name, options.baseUrl, 'v1/prices');
    this.logger = options.logger ?? createLogger('market-data', { source: this.name });
  }

  async fetch(asset: string, fromSec: number, toSec: number): Promise<PricePoint[]> {
    checkRequest(this.name, asset, fromSec, toSec);
    const points: PricePoint[] = [];
    for (const [from, to] of splitRange(fromSec, toSec, this.options.maxSpanSec ?? 86_400)) {
      const url = new URL(this.endpoint);
      url.search = new URLSearchParams({ asset, from: String(from), to: String(to), resolution: 'minute' }).toString();
      const parsed = body.safeParse(await getJson(this.name, url, this.options, this.logger));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new PriceSourceError(
          this.name,
          `GET ${url} answered with an unexpected body (${issue?.path.join('.') || 'body'}: ${issue?.message}); ` +
            'expected {"timestamp": [unix seconds...], "close": [prices...]}',
        );
      }
      const { timestamp, close: closes } = parsed.data;
      timestamp.forEach((ts, i) => {
        const price = closes[i];
        if (price !== null && price !== undefined) points.push({ ts, price });
      });
    }
    return normalisePoints(points, fromSec, toSec);
  }
}
