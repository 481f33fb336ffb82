import { describe, expect, it } from 'vitest';
import { deploymentId } from './deployment-id.js';

describe('deploymentId', () => {
  it('is {model_id}_{YYYYmmdd_HHMMSS_mmm} in UTC', () => {
    expect(deploymentId('benchmark', new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 6)))).toBe('benchmark_20250102_030405_006');
  });

  it('never repeats the previous id of the same model, even within one millisecond', () => {
    const at = new Date(Date.UTC(2025, 11, 31, 23, 59, 59, 999));
    const first = deploymentId('m', at);
    const second = deploymentId('m', at, first);
    expect(second).toBe('m_20260101_000000_000');
    expect(deploymentId('m', at, second)).toBe('m_20260101_000000_001');
  });

  it('ignores an earlier id when the clock has moved on', () => {
    const earlier = deploymentId('m', new Date(Date.UTC(2025, 0, 1)));
    expect(deploymentId('m', new Date(Date.UTC(2025, 0, 2)), earlier)).toBe('m_20250102_000000_000');
  });
});
