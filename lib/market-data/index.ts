export { type FallbackOptions, FallbackSource } from './fallback.js';
export {
  type FileReplayOptions,
  FileReplaySource,
  type PriceSeries,
  parsePriceCsv,
  parseTickJson,
} from './file-replay.js';
export { createPriceSource, type PriceSourceSpecOptions, priceSourceSpecHelp } from './from-spec.js';
export { type HttpOptions, httpDefaults } from './http.js';
export { type PriceDbOptions, PriceDbSource } from './pricedb.js';
export { type PythShimOptions, PythShimSource } from './pyth.js';
export { normalisePoints, type PricePoint, type PriceSource, PriceSourceError, splitRange } from './source.js';
export { type SyntheticAsset, type SyntheticOptions, SyntheticSource, syntheticAssets } from './synthetic.js';
