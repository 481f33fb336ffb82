import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { forgetProcess, killLeftovers, rememberProcess } from './leftovers.js';
import { processRunning } from './testing/processes.js';

describe('leftover model processes', () => {
  let dir: string;
  const started: number[] = [];
  // A process whose command line looks like a model-runner of `codeDir`, in its own group.
  const fakeRunner = (codeDir: string): number => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', '--', '--code-directory', codeDir], {
      detached: true,
      stdio: 'ignore',
    });
    child.unref();
    started.push(child.pid ?? 0);
    return child.pid ?? 0;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'leftovers-'));
  });
  afterEach(() => {
    for (const pid of started.splice(0)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already stopped by the test
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('kills recorded processes still running their code, and clears the records', async () => {
    const pid = fakeRunner('/subs/benchmark');
    await expect.poll(() => processRunning(pid)).toBe(true);
    rememberProcess(join(dir, 'pids'), pid, '/subs/benchmark');
    expect(killLeftovers(join(dir, 'pids'))).toEqual([pid]);
    await expect.poll(() => processRunning(pid)).toBe(false);
    expect(readdirSync(join(dir, 'pids'))).toEqual([]);
  });

  it('spares a process whose pid now belongs to other code', async () => {
    const pid = fakeRunner('/subs/other');
    await expect.poll(() => processRunning(pid)).toBe(true);
    rememberProcess(join(dir, 'pids'), pid, '/subs/benchmark');
    expect(killLeftovers(join(dir, 'pids'))).toEqual([]);
    expect(processRunning(pid)).toBe(true);
  });

  it('forgets a process that exited normally, and copes with no records at all', () => {
    rememberProcess(join(dir, 'pids'), 12345, '/subs/x');
    forgetProcess(join(dir, 'pids'), 12345);
    expect(existsSync(join(dir, 'pids', '12345'))).toBe(false);
    expect(killLeftovers(join(dir, 'missing'))).toEqual([]);
  });
});
