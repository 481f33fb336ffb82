// Merkle hashing exactly as CrunchDAO's node framework does it, so its verifier scripts work on our data:
// SHA-256 as lowercase hex of UTF-8 text, a parent is the hash of its children's hex strings
// concatenated as text, pairs are positional, an odd level pairs its last node with itself, and a
// single leaf is its own root.
import { createHash } from 'node:crypto';
import { pythonFloatRepr, pythonString } from '../model-runner/python-json.js';

/** Lowercase hex SHA-256 of the UTF-8 bytes of `text`. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** A parent node: the hash of the two hex strings concatenated as text (no prefix, no bytes). */
export function hashPair(left: string, right: string): string {
  return sha256Hex(left + right);
}

/** One step of a proof: the sibling's hash and the side it sits on. */
export interface ProofStep {
  hash: string;
  position: 'left' | 'right';
}

/** The levels of the tree over `leaves`, leaves first, root level last (a single node). */
export function merkleLevels(leaves: readonly string[]): string[][] {
  if (leaves.length === 0) throw new RangeError('a Merkle tree needs at least one leaf');
  const levels: string[][] = [[...leaves]];
  let level = levels[0] as string[];
  while (level.length > 1) {
    const next: string[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i] as string;
      next.push(hashPair(left, level[i + 1] ?? left));
    }
    levels.push(next);
    level = next;
  }
  return levels;
}

export function merkleRoot(leaves: readonly string[]): string {
  const levels = merkleLevels(leaves);
  return (levels[levels.length - 1] as string[])[0] as string;
}

/** The path from leaf `index` to the root: each sibling (itself where a level was odd) and its side. */
export function merkleProof(leaves: readonly string[], index: number): ProofStep[] {
  if (!(Number.isInteger(index) && index >= 0 && index < leaves.length)) {
    throw new RangeError(`leaf ${index} is not one of the ${leaves.length} leaves`);
  }
  const levels = merkleLevels(leaves);
  const path: ProofStep[] = [];
  let at = index;
  for (const level of levels.slice(0, -1)) {
    if (at % 2 === 0) path.push({ hash: level[at + 1] ?? (level[at] as string), position: 'right' });
    else path.push({ hash: level[at - 1] as string, position: 'left' });
    at = Math.floor(at / 2);
  }
  return path;
}

/** The root a path leads to from `leaf`. */
export function rootOfPath(leaf: string, path: readonly ProofStep[]): string {
  return path.reduce(
    (current, step) => (step.position === 'right' ? hashPair(current, step.hash) : hashPair(step.hash, current)),
    leaf,
  );
}

export function verifyProof(leaf: string, path: readonly ProofStep[], root: string): boolean {
  return rootOfPath(leaf, path) === root;
}

/** A cycle's chained root: its snapshots' root hashed after the previous cycle's chained root, if any. */
export function chainedRoot(previousChainedRoot: string | null, snapshotsRoot: string): string {
  return previousChainedRoot === null ? snapshotsRoot : hashPair(previousChainedRoot, snapshotsRoot);
}

/** What a snapshot leaf commits to. */
export interface SnapshotContent {
  modelId: string;
  /** Microseconds since the epoch (UTC). */
  periodStartUs: number;
  periodEndUs: number;
  predictionCount: number;
  /** Named figures, all floats (null: none); written as Python writes floats. */
  resultSummary: Readonly<Record<string, number | null>>;
}

/** Python's `datetime.isoformat()` of an aware UTC instant: microseconds only when not zero. */
export function pythonIsoformat(epochMicros: number): string {
  if (!Number.isSafeInteger(epochMicros)) throw new RangeError(`${epochMicros} is not a whole number of microseconds`);
  const micros = ((epochMicros % 1_000_000) + 1_000_000) % 1_000_000;
  const seconds = new Date((epochMicros - micros) / 1000).toISOString().slice(0, 19);
  return `${seconds}${micros === 0 ? '' : `.${String(micros).padStart(6, '0')}`}+00:00`;
}

/** A float in Python's JSON: repr, and the bare tokens json.dumps writes for the non-finite ones. */
function pythonJsonFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  return pythonFloatRepr(value);
}

/** Keys in code-point order, as Python sorts str (JavaScript's default sort compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const difference = (left[i] as string).codePointAt(0)! - (right[i] as string).codePointAt(0)!;
    if (difference !== 0) return difference;
  }
  return left.length - right.length;
}

/** `result_summary` as `json.dumps(..., sort_keys=True, separators=(",", ":"))` writes it. */
export function resultSummaryJson(summary: Readonly<Record<string, number | null>>): string {
  const keys = Object.keys(summary).sort(compareCodePoints);
  const fields = keys.map((key) => {
    const value = summary[key];
    return `${pythonString(key)}:${value === null || value === undefined ? 'null' : pythonJsonFloat(value)}`;
  });
  return `{${fields.join(',')}}`;
}

/** The exact text a snapshot leaf hashes: Python's sorted-key, compact JSON of its five fields. */
export function snapshotLeafJson(content: SnapshotContent): string {
  if (!(Number.isSafeInteger(content.predictionCount) && content.predictionCount >= 0)) {
    throw new RangeError(`prediction_count must be a whole number, got ${content.predictionCount}`);
  }
  return (
    `{"model_id":${pythonString(content.modelId)},` +
    `"period_end":"${pythonIsoformat(content.periodEndUs)}",` +
    `"period_start":"${pythonIsoformat(content.periodStartUs)}",` +
    `"prediction_count":${content.predictionCount},` +
    `"result_summary":${resultSummaryJson(content.resultSummary)}}`
  );
}

export function snapshotLeafHash(content: SnapshotContent): string {
  return sha256Hex(snapshotLeafJson(content));
}
