// The fan-out benchmark still runs end to end (a tiny size, one round, the reference Python client
// included), so its figures in bench/README.md can be reproduced: every model must answer SUCCESS on
// both transports, both ways of decoding, and through the reference client.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './support/tools.js';

const run = promisify(execFile);

describe('npm run bench -- fan-out', () => {
  it('measures every figure at a small size', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', resolve(repoRoot, 'bench/run.ts'), 'fan-out', '--sizes', '3', '--rounds', '1'],
      { cwd: repoRoot, timeout: 120_000 },
    );
    const figures = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, number>;
    for (const name of [
      'overhead_ms_3',
      'ratio_vs_python_3',
      'ours_raw_ms_3',
      'grpcjs_raw_ms_3',
      'http2_floor_ms_3',
      'json_parse_floor_ms_3',
    ]) {
      expect(figures[name], name).toBeTypeOf('number');
      expect(Number.isFinite(figures[name]), name).toBe(true);
    }
    expect(figures.answer_bytes).toBe(49_188);
    expect(figures.python_ms_3).toBeGreaterThan(0);
  }, 150_000);
});
