// Every workflow the coordinator worker runs. Deterministic code only: no I/O, clocks or randomness
// beyond what @temporalio/workflow provides; activities are imported as types.
export { type PredictCycleInput, type PredictCycleResult, predictCycle } from './predict-cycle.js';
