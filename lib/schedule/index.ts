export { type DuePrediction, duePredictions, type PredictionGroup, predictionGroupsOf } from './due-predictions.js';
export {
  SLOT_LEAD_SEC,
  type Slot,
  slotRoundBoundMs,
  slotsBetween,
} from './slot-grid.js';
