// The recorded histories of the scoring workflows (score pass, its continued first run, the leaderboard
// refresh, a backfill and both kinds of slice) replay on the current workflow code without determinism
// errors. test/replay.test.ts replays every file; this one makes sure these stay recorded.
// Re-record after an intended change: RECORD_HISTORIES=1 npx vitest run test/score-pass.test.ts test/backfill.test.ts
// test/checkpoints.test.ts
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { workflowsPath } from '../workers/coordinator.js';
import { historiesDirectory } from './support/histories.js';

// File name -> the workflow id it ran under (child ids are derived from it).
const recorded: Record<string, string> = {
  'score-pass': 'score-pass',
  'score-pass-continued': 'score-pass',
  'leaderboard-refresh': 'score-pass/leaderboard',
  'backfill-scores': 'backfill-scores',
  'backfill-slice-scores': 'backfill-scores/slice/scores',
  'backfill-slice-leaderboards': 'backfill-scores/slice/leaderboards',
  // Recorded by test/checkpoints.test.ts: a pass with its Merkle step, and an emission checkpoint.
  'score-pass-merkle': 'score-pass-merkle',
  'emission-checkpoint': 'emission-checkpoint',
};

describe('scoring workflows replay', () => {
  it('has every recorded history', () => {
    const missing = Object.keys(recorded).filter((name) => !existsSync(resolve(historiesDirectory, `${name}.json`)));
    expect(missing).toEqual([]);
  });

  it('replays them deterministically', async () => {
    const histories = Object.entries(recorded).map(([name, workflowId]) => ({
      workflowId,
      history: JSON.parse(readFileSync(resolve(historiesDirectory, `${name}.json`), 'utf8')) as unknown,
    }));
    const outcomes: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowsPath }, histories)) {
      outcomes.push(result.error ? `${result.workflowId}: ${result.error.message}` : `${result.workflowId}: ok`);
    }
    expect(outcomes).toEqual(Object.values(recorded).map((workflowId) => `${workflowId}: ok`));
  });
});
