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

export interface PythShimOptions extends HttpOptions {
  /** e.g. `https://benchmarks.pyth.network` (the path /v1/shims/tradingview/history is added). */
  baseUrl: string;
  /** Pyth symbols for assets the default rule gets wrong; the default is Crypto.<ASSET>/USD, XAU -> Metal.XAU/USD. */
  symbols?: Record<string, string>;
  /** Longest range asked in one request (default 1 day); longer ranges are split. */
  maxSpanSec?: number;
  logger?: Logger;
}

const defaultSymbols: Record<string, string> = { XAU: 'Metal.XAU/USD', XAG: 'Metal.XAG/USD' };

const body = z.discriminatedUnion('s', [
  z.object({ s: z.literal('ok'), t: z.array(z.number().finite()), c: z.array(z.number().nullable()) }),
  z.object({ s: z.literal('no_data') }),
  z.object({ s: z.literal('error'), errmsg: z.string().optional() }),
]);

/** Pyth benchmarks' TradingView shim: /v1/shims/tradingview/history?symbol=&resolution=1&from=&to=. */
export class PythShimSource implements PriceSource {
  readonly name = 'pyth';
  private readonly endpoint: URL;
  private readonly logger: Logger;

  constructor(private readonly options: PythShimOptions) {
    this.endpoint = endpoint(this.name, options.baseUrl, 'v1/shims/tradingview/history');
    this.logger = options.logger ?? createLogger('market-data', { source: this.name });
  }

  /** The Pyth symbol asked for an asset. */
  symbol(asset: string): string {
    return this.options.symbols?.[asset] ?? defaultSymbols[asset] ?? `Crypto.${asset}/USD`;
  }

  async fetch(asset: string, fromSec: number, toSec: number): Promise<PricePoint[]> {
    checkRequest(this.name, asset, fromSec, toSec);
    const symbol = this.symbol(asset);
    const points: PricePoint[] = [];
    for (const [from, to] of splitRange(fromSec, toSec, this.options.maxSpanSec ?? 86_400)) {
      const url = new URL(this.endpoint);
      url.search = new URLSearchParams({ symbol, resolution: '1', from: String(from), to: String(to) }).toString();
      const parsed = body.safeParse(await getJson(this.name, url, this.options, this.logger));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new PriceSourceError(
          this.name,
          `GET ${url} answered with an unexpected body (${issue?.path.join('.') || 'body'}: ${issue?.message}); ` +
            'expected {"s": "ok", "t": [...], "c": [...]} or {"s": "no_data"}',
        );
      }
      const answer = parsed.data;
      if (answer.s === 'error') {
        throw new PriceSourceError(this.name, `GET ${url} reported an error: ${answer.errmsg ?? 'no message'}`);
      }
      if (answer.s === 'no_data') continue;
      if (answer.t.length !== answer.c.length) {
        throw new PriceSourceError(this.name, `GET ${url} answered with t and c of different lengths`);
      }
      answer.t.forEach((ts, i) => {
        const price = answer.c[i];
        if (price !== null && price !== undefined) points.push({ ts, price });
      });
    }
    return normalisePoints(points, fromSec, toSec);
  }
}
