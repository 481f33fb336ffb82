import type { GameDefinition } from '../definition.js';
import { condor } from './index.js';

const DEMO_ASSETS = ['BTC', 'ETH', 'XAU', 'SOL'] as const;

/**
 * Condor on a short clock, for `npm start`: 2-minute forecasts in 1-minute steps, every asset each minute,
 * and 2/4/6-minute windows, so a newcomer sees scored, ranked models within minutes instead of days.
 * Same contract, validation and scorers as Condor.
 */
export const condorDemo: GameDefinition = {
  ...condor,
  id: 'condor-demo',
  windows: { recent: 120, steady: 240, anchor: 360 },
  // One asset every 15 s: a model's call must end before its next slot.
  predictTimeoutSeconds: 10,
  defaultPredictionConfigs: [{ assets: DEMO_ASSETS, horizon: 120, step: 60, interval: 60 }],
};

/**
 * The demo on about the shortest clock the data allows, for a first look (`GAME=condor-quick npm start`)
 * and the end-to-end test of `npm start`. Prices come one per minute, so a 1-minute step is the finest
 * with two prices to score against and a 1-minute forecast (one density) the shortest; a prediction is
 * scored once the next whole minute's price is in, up to a minute after it resolves. The recent window
 * must therefore span an asset's interval plus that minute, or it would often hold no scored prediction
 * and leave the model unranked: every asset each 30 s and 1.5/3/4.5-minute windows. The first ranked
 * leaderboard comes about 3 minutes after the first predictions instead of the demo's 4 to 5.
 */
export const condorQuick: GameDefinition = {
  ...condor,
  id: 'condor-quick',
  windows: { recent: 90, steady: 180, anchor: 270 },
  // One asset every 7.5 s: a model's call must end before its next slot.
  predictTimeoutSeconds: 5,
  defaultPredictionConfigs: [{ assets: DEMO_ASSETS, horizon: 60, step: 60, interval: 30 }],
};
