import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { condor, getGame } from '../lib/game/index.js';
import { resolveScorer, workerGame } from './game.js';

const failureOf = (work: () => unknown): ApplicationFailure => {
  try {
    work();
  } catch (error) {
    if (error instanceof ApplicationFailure) return error;
    throw error;
  }
  throw new Error('expected a failure');
};

describe("the worker's game", () => {
  it('is accepted by id and by crunch id', () => {
    expect(workerGame('condor', condor)).toBe(condor);
    expect(workerGame('condorgame', condor)).toBe(condor);
    expect(resolveScorer({ game: 'condor', scorer: 'crps' }, condor).label).toBe('condor-crps');
  });

  it('refuses another game without retry, naming both', () => {
    const failure = failureOf(() => resolveScorer({ game: 'condor-demo' }, condor));
    expect(failure.type).toBe('GameMismatch');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/plays the game "condor", not "condor-demo"/);
    expect(failureOf(() => workerGame('condor', getGame('condor-quick'))).type).toBe('GameMismatch');
  });

  it('refuses an unknown game or scorer without retry', () => {
    const game = failureOf(() => workerGame('chess', condor));
    expect([game.type, game.nonRetryable]).toEqual(['UnknownGame', true]);
    expect(game.message).toMatch(/unknown game "chess"/);
    const scorer = failureOf(() => resolveScorer({ game: 'condor', scorer: 'elo' }, condor));
    expect([scorer.type, scorer.nonRetryable]).toEqual(['UnknownGame', true]);
  });
});
