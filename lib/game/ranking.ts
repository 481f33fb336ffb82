// Leaderboard order (docs/game.md#windows-and-leaderboard, with our decisions): by anchor, then steady, then recent, in the
// game's direction; a missing (null or non-finite) score ranks after every number, and 0 is a
// number; remaining ties go to the smaller model id. Ranks are 1..N, unique.
import type { RankingDirection } from './definition.js';
import type { WindowScores } from './windows.js';

export interface Rankable extends WindowScores {
  modelId: string;
}

const ORDER = ['anchor', 'steady', 'recent'] as const;

function compareScores(a: number | null, b: number | null, direction: RankingDirection): number {
  const aMissing = a === null || !Number.isFinite(a);
  const bMissing = b === null || !Number.isFinite(b);
  if (aMissing || bMissing) return aMissing === bMissing ? 0 : aMissing ? 1 : -1;
  if (a === b) return 0;
  const aFirst = direction === 'higher-is-better' ? a! > b! : a! < b!;
  return aFirst ? -1 : 1;
}

/** Sorts models into leaderboard order and numbers them from 1. The input is not modified. */
export function rankModels<T extends Rankable>(
  models: readonly T[],
  direction: RankingDirection,
): Array<T & { rank: number }> {
  const sorted = [...models].sort((a, b) => {
    for (const name of ORDER) {
      const order = compareScores(a[name], b[name], direction);
      if (order !== 0) return order;
    }
    return a.modelId < b.modelId ? -1 : a.modelId > b.modelId ? 1 : 0;
  });
  return sorted.map((model, index) => ({ ...model, rank: index + 1 }));
}
