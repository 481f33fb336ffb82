import { describe, expect, it } from 'vitest';
import { getGame } from '../../lib/game/index.js';
import { expectedScore, normal, prediction, prices } from '../../test/support/score-prediction-fixtures.js';
import { BadInputError, parsePredictionFile, scorePredictionAgainst } from './score-prediction.js';

const condor = getGame('condor');

describe('score-prediction input checks', () => {
  const score = (data: unknown, pricesData: unknown = prices, scorer = 'likelihood') =>
    scorePredictionAgainst(condor, scorer, pricesData, parsePredictionFile(data, 'prediction.json'), 'prices.json');

  it('accepts performed_at as unix seconds or ISO-8601 (UTC unless it says otherwise)', () => {
    expect(parsePredictionFile(prediction, 'p').performedAt).toBe(480);
    expect(parsePredictionFile({ ...prediction, performed_at: '1970-01-01T00:08:00Z' }, 'p').performedAt).toBe(480);
    expect(parsePredictionFile({ ...prediction, performed_at: '1970-01-01T00:08:00' }, 'p').performedAt).toBe(480);
    expect(parsePredictionFile({ ...prediction, performed_at: '1970-01-01T01:08:00.5+01:00' }, 'p').performedAt).toBe(
      480.5,
    );
    expect(parsePredictionFile(prediction, 'p').status).toBe('SUCCESS');
  });

  it("scores like the scorer does, and fails non-SUCCESS predictions with upstream's reason", () => {
    expect(score(prediction).score).toBeCloseTo(expectedScore, 12);
    expect(score({ ...prediction, status: 'TIMEOUT', distributions: null })).toEqual({
      success: false,
      score: null,
      reason: 'The prediction not succeed PredictionStatus.TIMEOUT',
    });
    expect(score({ ...prediction, distributions: [normal] }).reason).toContain('expected 2 densities');
  });

  const badInputs: Array<[string, () => unknown, string]> = [
    ['not an object', () => score([prediction]), 'prediction.json must hold one prediction object'],
    ['no asset', () => score({ ...prediction, asset: '' }), 'asset must be a non-empty string'],
    [
      'fractional step',
      () => score({ ...prediction, step: 60.5 }),
      'step must be a positive whole number of seconds, got 60.5',
    ],
    [
      'unknown status',
      () => score({ ...prediction, status: 'LATE' }),
      'status must be one of SUCCESS, FAILED, TIMEOUT, ABSENT',
    ],
    [
      'bad time',
      () => score({ ...prediction, performed_at: 'yesterday' }),
      'performed_at must be unix seconds or an ISO-8601 time',
    ],
    ['no prices for the asset', () => score({ ...prediction, asset: 'SOL' }), 'prices.json has no prices for SOL'],
    [
      'prices ending before resolution',
      () => score({ ...prediction, performed_at: 481 }),
      'prices.json: BTC prices end at 1970-01-01T00:10:00.000Z, before the prediction resolves at 1970-01-01T00:10:01.000Z',
    ],
    ['a bad price', () => score(prediction, { BTC: [[0, -1]] }), 'price point 0 of BTC at 0 must be a positive number'],
  ];
  for (const [what, attempt, message] of badInputs) {
    it(`rejects ${what} as bad input`, () => {
      expect(attempt).toThrow(BadInputError);
      expect(attempt).toThrow(message);
    });
  }
});
