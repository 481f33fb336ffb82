import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getGame } from '../../lib/game/index.js';
import { BadInputError, parsePredictionFile, scorePredictionAgainst } from './score-prediction.js';

const coordinator = resolve(import.meta.dirname, '..', '..', 'bin', 'coordinator.mjs');
const condor = getGame('condor');

// Minute closes from 0 to 600 s; the 2-step prediction made at 480 covers 480 -> 540 (+10 %) and 540 -> 600.
const prices = {
  BTC: Array.from({ length: 11 }, (_, i) => [i * 60, i === 9 ? 110 : i === 10 ? 99 : 100]),
  ETH: [[0, 3000]],
};
const normal = { type: 'builtin', name: 'norm', params: { loc: 0, scale: 0.1 } };
const prediction = { asset: 'BTC', horizon: 120, step: 60, performed_at: 480, distributions: [normal, normal] };
const phi = (x: number) => Math.exp(-0.5 * (x / 0.1) ** 2) / (0.1 * Math.sqrt(2 * Math.PI));
// The mean pdf of the two observed log-returns, ln(110/100) and ln(99/110), under N(0, 0.1).
const expectedScore = (phi(Math.log(1.1)) + phi(Math.log(99 / 110))) / 2;

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

describe('score-prediction input checks', () => {
  const score = (data: unknown, pricesData: unknown = prices, scorer = 'likelihood') =>
    scorePredictionAgainst(condor, scorer, pricesData, parsePredictionFile(data, 'prediction.json'), 'prices.json');

  it('accepts performed_at as unix seconds or ISO-8601 (UTC unless it says otherwise)', () => {
    expect(parsePredictionFile(prediction, 'p').performedAt).toBe(480);
    expect(parsePredictionFile({ ...prediction, performed_at: '1970-01-01T00:08:00Z' }, 'p').performedAt).toBe(480);
    expect(parsePredictionFile({ ...prediction, performed_at: '1970-01-01T00:08:00' }, 'p').performedAt).toBe(480);
    expect(parsePredictionFile({ ...prediction, performed_at: '1970-01-01T01:08:00.5+01:00' }, 'p').performedAt).toBe(
      480.5,
    );
    expect(parsePredictionFile(prediction, 'p').status).toBe('SUCCESS');
  });

  it("scores like the scorer does, and fails non-SUCCESS predictions with upstream's reason", () => {
    expect(score(prediction).score).toBeCloseTo(expectedScore, 12);
    expect(score({ ...prediction, status: 'TIMEOUT', distributions: null })).toEqual({
      success: false,
      score: null,
      reason: 'The prediction not succeed PredictionStatus.TIMEOUT',
    });
    expect(score({ ...prediction, distributions: [normal] }).reason).toContain('expected 2 densities');
  });

  const badInputs: Array<[string, () => unknown, string]> = [
    ['not an object', () => score([prediction]), 'prediction.json must hold one prediction object'],
    ['no asset', () => score({ ...prediction, asset: '' }), 'asset must be a non-empty string'],
    [
      'fractional step',
      () => score({ ...prediction, step: 60.5 }),
      'step must be a positive whole number of seconds, got 60.5',
    ],
    [
      'unknown status',
      () => score({ ...prediction, status: 'LATE' }),
      'status must be one of SUCCESS, FAILED, TIMEOUT, ABSENT',
    ],
    [
      'bad time',
      () => score({ ...prediction, performed_at: 'yesterday' }),
      'performed_at must be unix seconds or an ISO-8601 time',
    ],
    ['no prices for the asset', () => score({ ...prediction, asset: 'SOL' }), 'prices.json has no prices for SOL'],
    [
      'prices ending before resolution',
      () => score({ ...prediction, performed_at: 481 }),
      'prices.json: BTC prices end at 1970-01-01T00:10:00.000Z, before the prediction resolves at 1970-01-01T00:10:01.000Z',
    ],
    ['a bad price', () => score(prediction, { BTC: [[0, -1]] }), 'price point 0 of BTC at 0 must be a positive number'],
  ];
  for (const [what, attempt, message] of badInputs) {
    it(`rejects ${what} as bad input`, () => {
      expect(attempt).toThrow(BadInputError);
      expect(attempt).toThrow(message);
    });
  }
});
