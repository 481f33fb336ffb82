import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkpointId, checkpointPeriod, cycleId, snapshotId } from './checkpoint.js';
import {
  chainedRoot,
  compareCodePoints,
  hashPair,
  merkleProof,
  merkleRoot,
  pythonIsoformat,
  resultSummaryJson,
  sha256Hex,
  snapshotLeafHash,
  snapshotLeafJson,
  verifyProof,
} from './merkle.js';

const noon = Date.UTC(2026, 0, 1, 12) * 1000;

describe('the reference vectors', () => {
  it('V1: a snapshot leaf', () => {
    const content = {
      modelId: 'model_a',
      periodStartUs: noon,
      periodEndUs: noon,
      predictionCount: 10,
      resultSummary: { mae: 0.5 },
    };
    expect(snapshotLeafJson(content)).toBe(
      '{"model_id":"model_a","period_end":"2026-01-01T12:00:00+00:00","period_start":"2026-01-01T12:00:00+00:00","prediction_count":10,"result_summary":{"mae":0.5}}',
    );
    expect(snapshotLeafHash(content)).toBe('4dd19d586bfa3853b69cf4bb569d626f97ca350215e648842dd864389f0392a9');
  });

  it('V2: a parent hashes the hex strings as text', () => {
    expect(hashPair('aaa', 'bbb')).toBe('2ce109e9d0faf820b2434e166297934e6177b65ab9951dbc3e204cad4689b39c');
  });

  it('V3: an odd level duplicates its last node', () => {
    expect(merkleRoot(['a', 'b', 'c'])).toBe('5c700ad7ee9dc104f1a6e92da5a3a76f73d62b0d1c86a205eace21ed914dcdbf');
    expect(merkleRoot(['a', 'b', 'c'])).toBe(hashPair(hashPair('a', 'b'), hashPair('c', 'c')));
  });
});

describe('Python-compatible leaf text', () => {
  it('writes dates as isoformat(): microseconds only when not zero', () => {
    expect(pythonIsoformat(Date.UTC(2026, 2, 1, 0, 0, 5) * 1000 + 250_000)).toBe('2026-03-01T00:00:05.250000+00:00');
    expect(pythonIsoformat(Date.UTC(2026, 2, 1) * 1000 + 7)).toBe('2026-03-01T00:00:00.000007+00:00');
    expect(pythonIsoformat(Date.UTC(2026, 2, 1) * 1000)).toBe('2026-03-01T00:00:00+00:00');
  });

  it('writes floats as repr, keys sorted by code point, non-ASCII escaped', () => {
    expect(resultSummaryJson({ b: 1, a: 1e-5, c: null, é: -0, Z: 1e16, '😀': Number.NaN, ﬀ: 0.1 })).toBe(
      '{"Z":1e+16,"a":1e-05,"b":1.0,"c":null,"\\u00e9":-0.0,"\\ufb00":0.1,"\\ud83d\\ude00":NaN}',
    );
    expect(compareCodePoints('\ufb00', '😀')).toBeLessThan(0);
  });

  it('names checkpoints, cycles and snapshots as CrunchDAO does', () => {
    const at = Date.UTC(2026, 2, 1, 0, 0, 5);
    expect(checkpointId(at)).toBe('CKP_20260301_000005');
    expect(cycleId(at * 1000 + 250_000)).toBe('CYC_20260301_000005_250000');
    expect(snapshotId('CYC_20260301_000005_250000', 3)).toBe('SNAP_20260301_000005_250000_3');
  });

  it('makes periods contiguous, and none twice', () => {
    expect(checkpointPeriod(1000, 100, null)).toEqual({ start: 900, end: 1000 });
    expect(checkpointPeriod(1000, 100, 950)).toEqual({ start: 950, end: 1000 });
    expect(checkpointPeriod(1000, 100, 1000)).toBeNull();
  });
});

const hexHash = fc.string({ minLength: 1, maxLength: 8 }).map(sha256Hex);

describe('proofs (properties)', () => {
  it('every leaf of every tree has a proof that verifies', () => {
    fc.assert(
      fc.property(fc.array(hexHash, { minLength: 1, maxLength: 70 }), (leaves) => {
        const root = merkleRoot(leaves);
        leaves.forEach((leaf, index) => {
          expect(verifyProof(leaf, merkleProof(leaves, index), root)).toBe(true);
        });
      }),
    );
  });

  it('a changed leaf breaks its proof', () => {
    fc.assert(
      fc.property(fc.array(hexHash, { minLength: 1, maxLength: 70 }), fc.nat(), hexHash, (leaves, pick, other) => {
        const index = pick % leaves.length;
        fc.pre(other !== leaves[index]);
        const root = merkleRoot(leaves);
        expect(verifyProof(other, merkleProof(leaves, index), root)).toBe(false);
      }),
    );
  });

  it('a proof through a chained cycle and a checkpoint tree reaches the checkpoint root', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(hexHash, { minLength: 1, maxLength: 9 }), { minLength: 1, maxLength: 9 }),
        (cycles) => {
          const chained: string[] = [];
          for (const leaves of cycles) chained.push(chainedRoot(chained.at(-1) ?? null, merkleRoot(leaves)));
          const checkpointRoot = merkleRoot(chained);
          cycles.forEach((leaves, c) => {
            const snapshotsRoot = merkleRoot(leaves);
            expect(verifyProof(leaves[0]!, merkleProof(leaves, 0), snapshotsRoot)).toBe(true);
            const cycleRoot = chainedRoot(c === 0 ? null : chained[c - 1]!, snapshotsRoot);
            expect(verifyProof(cycleRoot, merkleProof(chained, c), checkpointRoot)).toBe(true);
          });
        },
      ),
    );
  });
});
