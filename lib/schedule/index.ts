export { type DuePrediction, duePredictions, type PredictionGroup } from './due-predictions.js';
export { callDeadlineProblem, type Slot, shortestSlotGapSec, slotsBetween } from './slot-grid.js';
