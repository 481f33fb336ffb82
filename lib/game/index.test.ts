import { describe, expect, it } from 'vitest';
import { games, getGame, getScorer } from './index.js';

const condor = getGame('condor');
const normal = { type: 'builtin', name: 'norm', params: { loc: 0, scale: 0.01 } };

describe('the game registry', () => {
  it('finds Condor by id and by crunch id, and names the known games for an unknown one', () => {
    expect(getGame('condorgame')).toBe(condor);
    expect(Object.keys(games)).toEqual(['condor', 'condor-demo', 'condor-quick']);
    expect(getGame('condor-demo').windows).toEqual({ recent: 120, steady: 240, anchor: 360 });
    expect(getGame('condor-quick').windows).toEqual({ recent: 90, steady: 180, anchor: 270 });
    expect(getGame('condor-quick').defaultPredictionConfigs).toEqual([
      { assets: ['BTC', 'ETH', 'XAU', 'SOL'], horizon: 60, step: 60, interval: 30 },
    ]);
    expect(() => getGame('falcon')).toThrow('unknown game "falcon" (known: condor, condor-demo, condor-quick)');
    expect(() => getGame('toString')).toThrow('unknown game "toString"');
  });

  it('finds scorers by name, the default being likelihood', () => {
    expect(getScorer(condor).name).toBe('likelihood');
    expect(getScorer(condor, 'crps').direction).toBe('lower-is-better');
    expect(getScorer(condor, 'likelihood').direction).toBe('higher-is-better');
    expect(() => getScorer(condor, 'brier')).toThrow('game condor has no scorer "brier" (it has: likelihood, crps)');
  });
});

describe('Condor definition', () => {
  it('describes the participant contract of docs/game.md#the-participant-contract and docs/game.md#predict-schedule', () => {
    expect(condor.crunchId).toBe('condorgame');
    expect(condor.setupClassName).toBe('condorgame.tracker.TrackerBase');
    expect(condor.windows).toEqual({ recent: 86_400, steady: 259_200, anchor: 604_800 });
    expect(condor.defaultPredictionConfigs).toEqual([
      { assets: ['BTC', 'ETH', 'XAU', 'SOL'], horizon: 86_400, step: 300, interval: 3_600 },
      { assets: ['BTC', 'ETH', 'XAU', 'SOL'], horizon: 3_600, step: 60, interval: 720 },
    ]);
    expect(condor.tick.buildCall({ BTC: [[1, 2]] })).toEqual({
      method: 'tick',
      args: [{ type: 'JSON', value: { BTC: [[1, 2]] } }],
    });
  });

  it('builds predict(asset: str, horizon: int, step: int), one step per call', () => {
    const shape = condor.predictShapes.predict!;
    expect(shape.buildCall('BTC', 3600, [60])).toEqual({
      method: 'predict',
      args: [
        { type: 'STRING', value: 'BTC' },
        { type: 'INT', value: 3600 },
        { type: 'INT', value: 60 },
      ],
    });
    expect(() => shape.buildCall('BTC', 3600, [60, 300])).toThrow('predict answers one step per call');
    expect(shape.pick([normal], 60)).toEqual([normal]);
  });

  it('builds predict_all(asset, horizon, steps) and picks each step out of its answer', () => {
    const shape = condor.predictShapes.predict_all!;
    expect(shape.answersManySteps).toBe(true);
    expect(shape.buildCall('ETH', 86_400, [300, 3600]).args).toEqual([
      { type: 'STRING', value: 'ETH' },
      { type: 'INT', value: 86_400 },
      { type: 'JSON', value: [300, 3600] },
    ]);
    const answer = { '300': ['a'], '3600': ['b'] };
    expect(shape.pick(answer, 3600)).toEqual(['b']);
    expect(shape.pick(answer, 60)).toBeUndefined();
    expect(shape.pick(['not', 'a', 'dict'], 60)).toBeUndefined();
  });

  it('validates an answer at predict time', () => {
    const request = { asset: 'BTC', horizon: 180, step: 60 };
    expect(condor.validateOutput([normal, normal, { step: 180, prediction: normal }], request)).toEqual({
      ok: true,
      distributions: [normal, normal, { step: 180, prediction: normal }],
    });
    const cases: Array<[unknown, string]> = [
      [undefined, 'The prediction is not a list of densities (got nothing)'],
      [{ not: 'a list' }, 'The prediction is not a list of densities (got {"not":"a list"})'],
      [[normal], 'expected 3 densities (horizon 180 / step 60), got 1'],
      [
        [normal, normal, { ...normal, params: { loc: Number.NaN, scale: 1 } }],
        'distributions[2]: norm parameter "loc" must be a finite number, got NaN',
      ],
      [
        [normal, normal, { type: 'mixture', components: [{ density: normal, weight: 2 }] }],
        'distributions[2]: mixture weights must sum to 1 (within 0.000001), they sum to 2',
      ],
    ];
    for (const [output, reason] of cases) {
      const check = condor.validateOutput(output, request);
      expect(check.ok).toBe(false);
      if (!check.ok) expect(check.reason).toContain(reason);
    }
  });
});
