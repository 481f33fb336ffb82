// Game definitions: the interface the coordinator uses, the registry, and the generic helpers
// (prices and the closest-price rule, batch scoring, rolling windows, ranking).
import { condorDemo, condorQuick } from './condor/demo.js';
import { condor } from './condor/index.js';
import type { GameDefinition, Scorer } from './definition.js';

export { NO_SETTLED_PRICE, scoreBatch, scoreEach, withFailurePenalty } from './batch.js';
export { condorDemo, condorQuick } from './condor/demo.js';
export { condor } from './condor/index.js';
export { defaultGameId } from './default-game.js';
export type * from './definition.js';
export { PriceSeries, seriesFromTickData, type TickData } from './prices.js';
export { type Rankable, rankModels } from './ranking.js';
export {
  type GroupWindowScores,
  groupWindowScores,
  type ModelWindowScores,
  modelWindowScores,
  type ScoredPrediction,
  WINDOW_NAMES,
  type WindowName,
  type WindowScores,
} from './windows.js';

/** Every built-in game by id. */
export const games: Readonly<Record<string, GameDefinition>> = {
  condor,
  'condor-demo': condorDemo,
  'condor-quick': condorQuick,
};

/** A game by its id or its crunch id; throws a clear error for an unknown one. */
export function getGame(id: string): GameDefinition {
  const game = Object.hasOwn(games, id)
    ? games[id]
    : Object.values(games).find((candidate) => candidate.crunchId === id);
  if (game === undefined) throw new Error(`unknown game "${id}" (known: ${Object.keys(games).join(', ')})`);
  return game;
}

/** A scorer of a game by name (the game's default when omitted); throws a clear error for an unknown one. */
export function getScorer(game: GameDefinition, name: string = game.defaultScorer): Scorer {
  const scorer = Object.hasOwn(game.scorers, name) ? game.scorers[name] : undefined;
  if (scorer === undefined) {
    throw new Error(`game ${game.id} has no scorer "${name}" (it has: ${Object.keys(game.scorers).join(', ')})`);
  }
  return scorer;
}
