import type { GameDefinition } from '../definition.js';
import { condor } from './index.js';

/**
 * Condor on a short clock, for `npm start`: 2-minute forecasts in 1-minute steps, every asset each minute,
 * and 2/4/6-minute windows, so a newcomer sees scored, ranked models within minutes instead of days.
 * Same contract, validation and scorers as Condor.
 */
export const condorDemo: GameDefinition = {
  ...condor,
  id: 'condor-demo',
  windows: { recent: 120, steady: 240, anchor: 360 },
  defaultPredictionConfigs: [{ assets: ['BTC', 'ETH', 'XAU', 'SOL'], horizon: 120, step: 60, interval: 60 }],
};
