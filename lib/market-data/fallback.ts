import { createLogger, type Logger } from '../log/index.js';
import type { PricePoint, PriceSource } from './source.js';

export interface FallbackOptions {
  logger?: Logger;
}

/**
 * Asks the primary source; when it fails, asks the fallback instead. Logs once when it switches to the
 * fallback and once when the primary answers again, so the log says plainly where prices come from.
 * An empty answer is an answer (no new minute yet), not a failure. When both fail, the fallback's
 * error is thrown with the primary's as its cause.
 */
export class FallbackSource implements PriceSource {
  readonly name: string;
  private readonly logger: Logger;
  private usingFallback = false;

  constructor(
    private readonly primary: PriceSource,
    private readonly fallback: PriceSource,
    options: FallbackOptions = {},
  ) {
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
      const points = await this.primary.fetch(asset, fromSec, toSec);
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
      return await this.fallback.fetch(asset, fromSec, toSec);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`no price source answered for ${asset}: ${reason}; then ${message}`, {
        cause: primaryError,
      });
    }
  }
}
