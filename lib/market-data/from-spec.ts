import type { Logger } from '../log/index.js';
import { FallbackSource } from './fallback.js';
import { FileReplaySource } from './file-replay.js';
import type { HttpOptions } from './http.js';
import { PriceDbSource } from './pricedb.js';
import { PythShimSource } from './pyth.js';
import type { PriceSource } from './source.js';
import { SyntheticSource } from './synthetic.js';

export interface PriceSourceSpecOptions {
  http?: HttpOptions;
  logger?: Logger;
  /** For the synthetic source: unix seconds now (default the real clock). */
  clock?: () => number;
}

export const priceSourceSpecHelp =
  'pricedb:URL | pyth:URL | file:PATH (.json tick format or .csv asset,ts,price) | synthetic[:SEED]; ' +
  'join two real sources with "|" for a primary and its fallback (also the cross-check), e.g. ' +
  '"pricedb:https://host|pyth:https://host"; synthetic only alone (demos and tests)';

/**
 * A price source from a one-line description, for configuration and the command line:
 * `pricedb:https://api--pricedb--tournament.crunchdao.cloud`, `pyth:https://benchmarks.pyth.network`,
 * `file:./prices.json`, `synthetic:42`, or `primary|fallback`.
 */
export async function createPriceSource(spec: string, options: PriceSourceSpecOptions = {}): Promise<PriceSource> {
  const parts = spec.split('|').map((part) => part.trim());
  if (parts.length === 2) {
    const [primary, fallback] = await Promise.all(parts.map((part) => createPriceSource(part, options)));
    return new FallbackSource(primary!, fallback!, { logger: options.logger });
  }
  if (parts.length > 2) throw new Error(`price source "${spec}": at most one fallback ("primary|fallback")`);
  const separator = spec.indexOf(':');
  const kind = (separator === -1 ? spec : spec.slice(0, separator)).trim();
  const argument = separator === -1 ? '' : spec.slice(separator + 1).trim();
  const need = (what: string) => {
    if (!argument) throw new Error(`price source "${spec}" needs ${what}, e.g. ${kind}:${what}`);
    return argument;
  };
  switch (kind) {
    case 'pricedb':
      return new PriceDbSource({ baseUrl: need('URL'), ...options.http, logger: options.logger });
    case 'pyth':
      return new PythShimSource({ baseUrl: need('URL'), ...options.http, logger: options.logger });
    case 'file':
      return FileReplaySource.fromFile(need('PATH'));
    case 'synthetic':
      return new SyntheticSource({ seed: argument || 0, clock: options.clock });
    default:
      throw new Error(`unknown price source "${spec}"; use ${priceSourceSpecHelp}`);
  }
}
