export { type DuePrediction, duePredictions, type PredictionGroup } from './due-predictions.js';
