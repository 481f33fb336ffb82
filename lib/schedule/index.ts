export { type DuePrediction, duePredictions, type PredictionGroup, predictionGroupsOf } from './due-predictions.js';
export {
  callDeadlineProblem,
  type Slot,
  shortestSlotGapSec,
  slotRoundBoundMs,
  slotsBetween,
} from './slot-grid.js';
