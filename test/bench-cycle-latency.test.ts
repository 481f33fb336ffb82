// The cycle-latency benchmark still runs end to end (a tiny fleet, one slot per path, its hostile
// model included), so its figures in bench/README.md can be reproduced: every honest model gets
// every slot, through Temporal and the plain loop alike. Shape only: times are never asserted.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './support/tools.js';

const run = promisify(execFile);

describe('npm run bench -- cycle-latency', () => {
  it('measures every figure at a small size, with no honest slot missing', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', resolve(repoRoot, 'bench/run.ts'), 'cycle-latency', '--sizes', '3', '--reps', '1'],
      { cwd: repoRoot, timeout: 150_000 },
    );
    const figures = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, number>;
    expect(figures.bench).toBe('cycle-latency');
    for (const name of [
      'slot_to_stored_ms_p50_3',
      'slot_to_stored_ms_p99_3',
      'slot_to_call_ms_p50_3',
      'plain_slot_to_stored_ms_p50_3',
      'plain_slot_to_stored_ms_p99_3',
      'ratio_vs_plain_p50_3',
    ]) {
      expect(figures[name], name).toBeTypeOf('number');
      expect(Number.isFinite(figures[name]), name).toBe(true);
    }
    expect(figures.hostile_3).toBe(1);
    expect(figures.missing_honest_slots).toBe(0);
  }, 180_000);
});
