import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Rankable, rankModels } from './ranking.js';

const model = (modelId: string, anchor: number | null, steady: number | null, recent: number | null): Rankable => ({
  modelId,
  anchor,
  steady,
  recent,
});

describe('rankModels', () => {
  it('orders by anchor, then steady, then recent, higher first for likelihood', () => {
    const ranked = rankModels(
      [model('a', 1, 5, 5), model('b', 2, 0, 0), model('c', 1, 5, 6), model('d', 1, 6, 0)],
      'higher-is-better',
    );
    expect(ranked.map((m) => [m.modelId, m.rank])).toEqual([
      ['b', 1],
      ['d', 2],
      ['c', 3],
      ['a', 4],
    ]);
  });

  it('orders lower first for CRPS', () => {
    const ranked = rankModels([model('a', 0.9, null, null), model('b', 0.4, null, null)], 'lower-is-better');
    expect(ranked.map((m) => m.modelId)).toEqual(['b', 'a']);
  });

  it('puts nulls last in both directions, treats 0 as a score and breaks ties by model id', () => {
    for (const direction of ['higher-is-better', 'lower-is-better'] as const) {
      const ranked = rankModels(
        [model('z', null, null, 3), model('y', 0, null, null), model('x', null, null, null), model('w', null, null, 3)],
        direction,
      );
      // y has an anchor (0); w and z tie on everything present, so w (smaller id) first; x has nothing.
      expect(ranked.map((m) => m.modelId)).toEqual(['y', 'w', 'z', 'x']);
    }
  });

  it('gives unique ranks 1..N independent of the input order', () => {
    const score = fc.option(fc.integer({ min: -3, max: 3 }));
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.record({ modelId: fc.string({ maxLength: 4 }), anchor: score, steady: score, recent: score }),
          {
            selector: (m) => m.modelId,
            maxLength: 15,
          },
        ),
        (models) => {
          const ranked = rankModels(models, 'higher-is-better');
          const again = rankModels([...models].reverse(), 'higher-is-better');
          expect(ranked.map((m) => m.rank)).toEqual(models.map((_, i) => i + 1));
          expect(again).toEqual(ranked);
        },
      ),
    );
  });
});
