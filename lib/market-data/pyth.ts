import { z } from 'zod';
import type { Logger } from '../log/index.js';
import { columnPoints, fetchInSpans, type HttpOptions, type JsonEndpoint, jsonEndpoint } from './http.js';
import { type PricePoint, type PriceSource, PriceSourceError } from './source.js';

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
const expected = '{"s": "ok", "t": [...], "c": [...]} or {"s": "no_data"}';

/** Pyth benchmarks' TradingView shim: /v1/shims/tradingview/history?symbol=&resolution=1&from=&to=. */
export class PythShimSource implements PriceSource {
  readonly name = 'pyth';
  private readonly api: JsonEndpoint;

  constructor(private readonly options: PythShimOptions) {
    this.api = jsonEndpoint(this.name, options.baseUrl, 'v1/shims/tradingview/history', options);
  }

  /** The Pyth symbol asked for an asset. */
  symbol(asset: string): string {
    return this.options.symbols?.[asset] ?? defaultSymbols[asset] ?? `Crypto.${asset}/USD`;
  }

  fetch(asset: string, fromSec: number, toSec: number): Promise<PricePoint[]> {
    const maxSpanSec = this.options.maxSpanSec ?? 86_400;
    return fetchInSpans(this.name, { asset, fromSec, toSec, maxSpanSec }, async (from, to) => {
      const query = { symbol: this.symbol(asset), resolution: '1', from: String(from), to: String(to) };
      const { url, body: answer } = await this.api.get(query, body, expected);
      if (answer.s === 'error') {
        throw new PriceSourceError(this.name, `GET ${url} reported an error: ${answer.errmsg ?? 'no message'}`);
      }
      if (answer.s === 'no_data') return [];
      return columnPoints(this.name, url, { name: 't', values: answer.t }, { name: 'c', values: answer.c });
    });
  }
}
