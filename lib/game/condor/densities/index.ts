export {
  type CompiledDensity,
  compileDensity,
  DEFAULT_DENSITY_LIMITS,
  type DensityLimits,
  densityPdf,
  describeValue,
} from './compile.js';
export { DISTRIBUTION_NAMES, type Pdf } from './families.js';
export { logBeta, logGamma } from './special-functions.js';
