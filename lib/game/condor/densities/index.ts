export {
  type CompiledDensity,
  type CompiledList,
  compileDensities,
  compileDensity,
  DensityList,
  densityPdf,
} from './compile.js';
export { DISTRIBUTION_NAMES, type Pdf } from './families.js';
export {
  DEFAULT_DENSITY_LIMITS,
  type DensityLimits,
  describeValue,
  resolveDensityLimits,
  SpecReader,
} from './spec-reader.js';
export { logBeta, logGamma } from './special-functions.js';
