import { createLogger, type Logger } from '../log/index.js';
import type { PricePoint, PriceSource } from './source.js';

export interface FallbackOptions {
  logger?: Logger;
}

/** Synthetic prices are for demos and tests, asked for on their own: never a fallback of a real game. */
function refuseSynthetic(source: PriceSource): void {
  if (source.name === 'synthetic') {
    throw new Error(
      'a synthetic price source cannot be part of a fallback chain: a real game never falls back to ' +
        'made-up prices. Chain real sources (e.g. "pricedb:URL|pyth:URL"), or use "synthetic:SEED" alone for a demo',
    );
  }
}

/**
 * Asks the primary source; when it fails, asks the fallback instead. Both must be real sources.
 * Each point returned carries the name of the source that answered it. Logs once when it switches to the
 * fallback and once when the primary answers again, so the log says plainly where prices come from.
 * An empty answer is an answer (no new minute yet), not a failure. When both fail, the fallback's
 * error is thrown with the primary's as its cause.
 */
export class FallbackSource implements PriceSource {
  readonly name: string;
  private readonly logger: Logger;
  private usingFallback = false;

  constructor(
    readonly primary: PriceSource,
    readonly fallback: PriceSource,
    options: FallbackOptions = {},
  ) {
    refuseSynthetic(primary);
    refuseSynthetic(fallback);
    this.name = `${primary.name}, else ${fallback.name}`;
    this.logger = options.logger ?? createLogger('market-data');
  }

  /** Which source answered the last fetch. */
  get current(): string {
    return this.usingFallback ? this.fallback.name : this.primary.name;
  }

  async fetch(asset: string, fromSec: number, toSec: number): Promise<PricePoint[]> {
    let primaryError: unknown;
    try {
      const points = tagged(await this.primary.fetch(asset, fromSec, toSec), this.primary.name);
      if (this.usingFallback) {
        this.usingFallback = false;
        this.logger.info(
          { primary: this.primary.name, fallback: this.fallback.name, asset },
          `price source ${this.primary.name} answers again: using it instead of ${this.fallback.name}`,
        );
      }
      return points;
    } catch (error) {
      primaryError = error;
    }
    const reason = primaryError instanceof Error ? primaryError.message : String(primaryError);
    if (!this.usingFallback) {
      this.usingFallback = true;
      this.logger.warn(
        { primary: this.primary.name, fallback: this.fallback.name, asset, reason },
        `price source ${this.primary.name} failed (${reason}): using ${this.fallback.name} instead`,
      );
    }
    try {
      return tagged(await this.fallback.fetch(asset, fromSec, toSec), this.fallback.name);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`no price source answered for ${asset}: ${reason}; then ${message}`, {
        cause: primaryError,
      });
    }
  }
}

function tagged(points: PricePoint[], source: string): PricePoint[] {
  return points.map((point) => ({ ...point, source: point.source ?? source }));
}

/**
 * The real sources behind a configured source, primary first: a fallback chain's two members, else the
 * source itself. The ingestion asks them one by one (the second also cross-checks the first).
 */
export function sourcesOf(source: PriceSource): PriceSource[] {
  return source instanceof FallbackSource ? [...sourcesOf(source.primary), ...sourcesOf(source.fallback)] : [source];
}
