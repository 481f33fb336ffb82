import { ApplicationFailure } from '@temporalio/common';
import { type GameDefinition, getGame, getScorer, type Scorer } from '../lib/game/index.js';
import { failureTypes } from '../lib/temporal/failure-types.js';

/** Which game and scorer: names travel through workflow history, the definitions stay in code. */
export interface ScorerChoice {
  /** A game id of lib/game, e.g. 'condor': it must be the worker's game. */
  game: string;
  /** A scorer of that game; default: the game's default scorer. */
  scorer?: string;
}

/**
 * The game a workflow asked for, which must be the one this worker plays: a score pass started by hand
 * under another game would otherwise score with the wrong windows. Neither an unknown game nor another
 * game is fixed by a retry, so both fail the workflow at once.
 */
export function workerGame(requested: string, worker: GameDefinition): GameDefinition {
  let game: GameDefinition;
  try {
    game = getGame(requested);
  } catch (error) {
    throw ApplicationFailure.nonRetryable((error as Error).message, failureTypes.unknownGame);
  }
  if (game.id !== worker.id) {
    throw ApplicationFailure.nonRetryable(
      `this worker plays the game "${worker.id}", not "${game.id}" (the GAME setting of the workers and the game of the workflow must agree)`,
      failureTypes.gameMismatch,
    );
  }
  return game;
}

/** The game (the worker's, see workerGame) and the scorer by name; an unknown scorer fails the workflow at once. */
export function resolveScorer(
  choice: ScorerChoice,
  worker: GameDefinition,
): { game: GameDefinition; scorer: Scorer; label: string } {
  const game = workerGame(choice.game, worker);
  try {
    const scorer = getScorer(game, choice.scorer);
    return { game, scorer, label: `${game.id}-${scorer.name}` };
  } catch (error) {
    throw ApplicationFailure.nonRetryable((error as Error).message, failureTypes.unknownGame);
  }
}
