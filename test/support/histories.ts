import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { repoRoot, temporalCli } from './tools.js';

export const historiesDirectory = resolve(repoRoot, 'test', 'fixtures', 'histories');

/**
 * With RECORD_HISTORIES=1, saves a finished workflow's history as test/fixtures/histories/<name>.json
 * (exported by the Temporal CLI, the format every Temporal tool reads) for test/replay.test.ts to replay
 * against the current workflow code. Commit what it writes when a workflow changes on purpose, and keep
 * old files while runs of the old shape may still be open.
 */
export function recordHistory(address: string, workflowId: string, name: string): void {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const json = execFileSync(
    temporalCli(),
    ['workflow', 'show', '--workflow-id', workflowId, '--address', address, '--output', 'json'],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  writeFileSync(resolve(historiesDirectory, `${name}.json`), json);
}
