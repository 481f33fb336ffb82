export {
  type CheckBounds,
  type Correction,
  closedMinutes,
  type Divergence,
  type HeldPoint,
  perAssetBound,
  type Reconciliation,
  reconcile,
  type SourcedPoint,
} from './checks.js';
export { type FallbackOptions, FallbackSource, sourcesOf } from './fallback.js';
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
