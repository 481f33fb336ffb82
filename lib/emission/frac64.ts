// Reward shares in CrunchDAO's "frac64" unit, with the arithmetic of its node framework's default
// emission reproduced operation for operation (float64, Python's summation and rounding), so that the
// platform's figures and ours agree to the unit.

/** 100 % of a reward, in frac64 units (CrunchDAO's constant: 1e9, not 2^64). */
export const FRAC64_WHOLE = 1_000_000_000;

/** Python's round(): to the nearest integer, halves to the even neighbour. */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  // Exact for any double: floor and value are within 1 of each other.
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * Python's built-in sum() of floats (3.12 and later): Neumaier's compensated summation, the
 * compensation added once at the end. Shares computed with a plain left-to-right sum can differ by a
 * unit in the last place, which rounding to frac64 may then show.
 */
export function pythonSum(values: readonly number[]): number {
  let sum = 0;
  let compensation = 0;
  for (const value of values) {
    const next = sum + value;
    compensation += Math.abs(sum) >= Math.abs(value) ? sum - next + value : value - next + sum;
    sum = next;
  }
  return compensation !== 0 && Number.isFinite(compensation) ? sum + compensation : sum;
}

/** A percentage (0-100) as frac64 units: `int(round(pct / 100 * 1e9))`. */
export function percentToFrac64(percent: number): number {
  return roundHalfEven((percent / 100) * FRAC64_WHOLE);
}

/**
 * Percentages as frac64 shares that sum to exactly 1e9: each rounded on its own, then the first
 * share takes whatever the rounding left over (positive or negative).
 */
export function sharesFromPercents(percents: readonly number[]): number[] {
  const shares = percents.map(percentToFrac64);
  if (shares.length > 0) {
    const total = shares.reduce((sum, share) => sum + share, 0);
    shares[0] = (shares[0] as number) + FRAC64_WHOLE - total;
  }
  return shares;
}

/** A band of ranks (inclusive) and the percentage each rank in it earns. */
export interface RewardTier {
  fromRank: number;
  toRank: number;
  percent: number;
}

/** CrunchDAO's default tiers: rank 1 35 %, ranks 2-5 10 % each, ranks 6-10 5 % each, the rest nothing. */
export const defaultTiers: readonly RewardTier[] = [
  { fromRank: 1, toRank: 1, percent: 35 },
  { fromRank: 2, toRank: 5, percent: 10 },
  { fromRank: 6, toRank: 10, percent: 5 },
];

/**
 * frac64 shares of ranked entries (`ranks[i]` is the rank of entry i, in ranking order) by tiers:
 * each entry gets its tier's percentage; if these leave part of the 100 % unclaimed (fewer entries
 * than the tiers pay), the rest is split equally over every entry. Sums to exactly 1e9 unless empty.
 */
export function tierShares(ranks: readonly number[], tiers: readonly RewardTier[] = defaultTiers): number[] {
  if (ranks.length === 0) return [];
  let percents = ranks.map((rank) => tiers.find((tier) => tier.fromRank <= rank && rank <= tier.toRank)?.percent ?? 0);
  const claimed = pythonSum(percents);
  if (claimed < 100) {
    const each = (100 - claimed) / ranks.length;
    percents = percents.map((percent) => percent + each);
  }
  return sharesFromPercents(percents);
}

/** What the contribution-weighted strategy reads of each ranked entry. */
export interface WeightedEntry {
  rank: number;
  /** The entry's contribution to the ensemble; missing counts as 0. */
  contribution?: number;
  /** Its correlation with the other models; missing counts as 0. */
  modelCorrelation?: number;
}

export interface ContributionWeights {
  rank: number;
  contribution: number;
  diversity: number;
  /** Floor of any entry's percentage before renormalising. */
  minPercent: number;
}

export const defaultContributionWeights: ContributionWeights = {
  rank: 0.5,
  contribution: 0.3,
  diversity: 0.2,
  minPercent: 1,
};

/**
 * CrunchDAO's opt-in alternative to tiers: a composite of inverse rank, contribution and diversity
 * (1 - correlation), each min-max normalised (a flat metric gives 1/N to everyone), turned into
 * percentages with a floor, renormalised to 100, then frac64 as the tiers are.
 */
export function contributionWeightedShares(
  entries: readonly WeightedEntry[],
  weights: ContributionWeights = defaultContributionWeights,
): number[] {
  const n = entries.length;
  if (n === 0) return [];
  const normalise = (values: number[]): number[] => {
    const low = Math.min(...values);
    const high = Math.max(...values);
    if (high - low < 1e-12) return values.map(() => 1 / n);
    return values.map((value) => (value - low) / (high - low));
  };
  const rankScores = normalise(entries.map((entry) => 1 / entry.rank));
  const contributionScores = normalise(entries.map((entry) => entry.contribution ?? 0));
  const diversityScores = normalise(entries.map((entry) => 1 - (entry.modelCorrelation ?? 0)));
  const composite = entries.map(
    (_, i) =>
      weights.rank * (rankScores[i] as number) +
      weights.contribution * (contributionScores[i] as number) +
      weights.diversity * (diversityScores[i] as number),
  );
  const total = pythonSum(composite);
  const floored =
    total < 1e-12
      ? composite.map(() => 100 / n)
      : composite.map((value) => Math.max(weights.minPercent, (value / total) * 100));
  const floorTotal = pythonSum(floored);
  return sharesFromPercents(floored.map((percent) => (percent / floorTotal) * 100));
}
