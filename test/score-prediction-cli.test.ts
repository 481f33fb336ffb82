// `coordinator score-prediction` as a user runs it: a spawned process, its JSON line and exit codes
// (the scoring rules themselves: cli/commands/score-prediction.test.ts).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedScore, prediction, prices } from './support/score-prediction-fixtures.js';
import { repoRoot } from './support/tools.js';

const coordinator = resolve(repoRoot, 'bin', 'coordinator.mjs');

let directory: string;
async function file(name: string, content: string): Promise<string> {
  const path = join(directory, name);
  await writeFile(path, content);
  return path;
}

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [coordinator, 'score-prediction', ...args], (error, stdout, stderr) => {
      done({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'score-prediction-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('coordinator score-prediction (spawned)', () => {
  it('prints the score as one JSON line', async () => {
    const result = await run([
      '--prices',
      await file('prices.json', JSON.stringify(prices)),
      '--prediction',
      await file('prediction.json', JSON.stringify(prediction)),
    ]);
    expect(result.code).toBe(0);
    const line = JSON.parse(result.stdout.trim());
    expect(line.success).toBe(true);
    expect(line.reason).toBeNull();
    expect(line.score).toBeCloseTo(expectedScore, 12);
  });

  it("reports an invalid prediction as a failed score (exit 0), with the predict cycle's reason", async () => {
    // Python's json.dumps writes NaN bare: the file is readable, the density is not valid.
    const text = JSON.stringify({ ...prediction, performed_at: '1970-01-01T00:08:00' }).replace(
      '"scale":0.1}',
      '"scale":NaN}',
    );
    const result = await run([
      '--prices',
      await file('prices.json', JSON.stringify(prices)),
      '--prediction',
      await file('nan.json', text),
      '--scorer',
      'crps',
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      score: null,
      success: false,
      reason: 'distributions[0]: norm parameter "scale" must be a finite number, got NaN',
    });
  });

  it('exits 2 with a message for a file that is not JSON', async () => {
    const result = await run([
      '--prices',
      await file('broken.json', '{"BTC": [[0, 1]'),
      '--prediction',
      await file('prediction.json', JSON.stringify(prediction)),
    ]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^score-prediction: the prices file .*broken\.json is not valid JSON/);
  });

  it('exits 2 for a missing file', async () => {
    const missing = await run(['--prices', join(directory, 'nope.json'), '--prediction', join(directory, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read the prices file');
    expect(missing.stderr).toContain('ENOENT');
  });
});
