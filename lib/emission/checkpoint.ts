// The EmissionCheckpoint CrunchDAO's platform settles, and the names and periods of our checkpoints.
import { defaultTiers, FRAC64_WHOLE, type RewardTier, tierShares } from './frac64.js';

export interface CruncherReward {
  /** Position in the checkpoint's ranking (rank - 1). */
  cruncher_index: number;
  /** frac64 units: 1e9 = 100 %. */
  reward_pct: number;
}

export interface ProviderReward {
  provider: string;
  reward_pct: number;
}

/** The platform's format, field for field. */
export interface EmissionCheckpoint {
  crunch: string;
  cruncher_rewards: CruncherReward[];
  compute_provider_rewards: ProviderReward[];
  data_provider_rewards: ProviderReward[];
}

export interface EmissionOptions {
  /** The crunch's on-chain address. */
  crunch: string;
  /** Wallets paid 100 % of their pools, when configured. */
  computeProvider?: string | undefined;
  dataProvider?: string | undefined;
  tiers?: readonly RewardTier[];
}

/** The emission of a ranking (`ranks` in ranking order, 1..N): tiers and frac64 shares, providers at 100 %. */
export function buildEmission(ranks: readonly number[], options: EmissionOptions): EmissionCheckpoint {
  const shares = tierShares(ranks, options.tiers ?? defaultTiers);
  const provider = (wallet: string | undefined): ProviderReward[] =>
    wallet ? [{ provider: wallet, reward_pct: FRAC64_WHOLE }] : [];
  return {
    crunch: options.crunch,
    cruncher_rewards: shares.map((reward_pct, cruncher_index) => ({ cruncher_index, reward_pct })),
    compute_provider_rewards: provider(options.computeProvider),
    data_provider_rewards: provider(options.dataProvider),
  };
}

const stamp = (epochMs: number): string => {
  const iso = new Date(epochMs).toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}_${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
};

/** A checkpoint's id from its period end: `CKP_%Y%m%d_%H%M%S` (UTC), as CrunchDAO names them. */
export function checkpointId(periodEndMs: number): string {
  return `CKP_${stamp(periodEndMs)}`;
}

/** A Merkle cycle's id from its instant: `CYC_%Y%m%d_%H%M%S_%f`. */
export function cycleId(epochMicros: number): string {
  const micros = ((epochMicros % 1_000_000) + 1_000_000) % 1_000_000;
  return `CYC_${stamp((epochMicros - micros) / 1000)}_${String(micros).padStart(6, '0')}`;
}

/** A snapshot's id: its cycle's id and its leaf position. */
export function snapshotId(cycle: string, leafIndex: number): string {
  return `SNAP_${cycle.slice('CYC_'.length)}_${leafIndex}`;
}

export interface CheckpointPeriod {
  /** Unix seconds. */
  start: number;
  end: number;
}

/**
 * The period a checkpoint ending at `end` covers: from the previous checkpoint's end (periods are
 * contiguous), or `everySeconds` back for the first one. Null when a checkpoint at or after `end`
 * exists already (`existingEnd >= end`): there is nothing left to cover.
 */
export function checkpointPeriod(
  end: number,
  everySeconds: number,
  previousEnd: number | null,
): CheckpointPeriod | null {
  if (previousEnd !== null && previousEnd >= end) return null;
  return { start: previousEnd ?? end - everySeconds, end };
}
