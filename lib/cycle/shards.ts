/**
 * Which fan-out shard a model belongs to: FNV-1a of its id, so the split is stable across processes,
 * restarts and replays, and a model is always called by one shard of a cycle.
 */
export function shardOf(modelId: string, shards: number): number {
  if (!Number.isInteger(shards) || shards < 1) throw new RangeError(`shards must be a positive integer, got ${shards}`);
  let hash = 0x811c9dc5;
  for (let i = 0; i < modelId.length; i++) {
    hash ^= modelId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

/** The part of the fleet one activity handles. */
export interface Shard {
  index: number;
  count: number;
}

export const wholeFleet: Shard = { index: 0, count: 1 };

export function inShard(modelId: string, shard: Shard): boolean {
  return shard.count === 1 || shardOf(modelId, shard.count) === shard.index;
}
