import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Pid files of running model processes, one per process under `<dir>/`. An orchestrator that was
 * killed outright (SIGKILL, a crash) cannot stop its models; the next one to use the same state
 * folder finds their pid files and stops them before starting anything.
 */
export function rememberProcess(dir: string, pid: number, codeDir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, String(pid)), codeDir);
}

export function forgetProcess(dir: string, pid: number): void {
  rmSync(join(dir, String(pid)), { force: true });
}

/** Kills the process groups of recorded processes that still run the recorded code; returns their pids. */
export function killLeftovers(dir: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const killed: number[] = [];
  for (const entry of entries) {
    const pid = Number(entry);
    const file = join(dir, entry);
    if (Number.isInteger(pid) && pid > 1) {
      try {
        const codeDir = readFileSync(file, 'utf8');
        // The pid may have been reused by an unrelated process since: only kill a model-runner of that code.
        const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
        if (commandLine.includes(`--code-directory ${codeDir}`)) {
          process.kill(-pid, 'SIGKILL');
          killed.push(pid);
        }
      } catch {
        // gone already
      }
    }
    rmSync(file, { force: true });
  }
  return killed;
}
