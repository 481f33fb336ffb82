export { type DuePrediction, duePredictions, type PredictionGroup, predictionGroupsOf } from './due-predictions.js';
export {
  callDeadlineProblem,
  SLOT_LEAD_SEC,
  type Slot,
  shortestSlotGapSec,
  slotRoundBoundMs,
  slotsBetween,
} from './slot-grid.js';
