import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** condorgame >= 0.5 needs Python 3.12; older interpreters are never chosen. */
export const MINIMUM_PYTHON = { major: 3, minor: 12 } as const;

export interface PythonInterpreter {
  /** As given or found (a pyenv path, or a name on PATH). */
  executable: string;
  /** The interpreter's own `sys.executable`, resolved: what environment hashes are keyed on. */
  realPath: string;
  /** e.g. "3.13.0" */
  version: string;
  major: number;
  minor: number;
  patch: number;
}

export interface FindPythonOptions {
  /** Use this interpreter (path or name on PATH) instead of searching; it must still be >= 3.12. */
  executable?: string;
  /** Root of pyenv (default $PYENV_ROOT given by the caller, else ~/.pyenv). */
  pyenvRoot?: string;
  /** Names tried on PATH after pyenv's versions. */
  pathNames?: string[];
}

const PROBE = 'import os, sys; print("%d %d %d" % sys.version_info[:3]); print(os.path.realpath(sys.executable))';

/** What `executable` is, or undefined when it does not run as a Python interpreter. */
export async function probePython(executable: string): Promise<PythonInterpreter | undefined> {
  try {
    const { stdout } = await run(executable, ['-c', PROBE], { timeout: 15_000 });
    const [versionLine = '', realPath = ''] = stdout.trim().split('\n');
    const [major, minor, patch] = versionLine.split(' ').map(Number);
    if (major === undefined || minor === undefined || patch === undefined || Number.isNaN(major + minor + patch)) {
      return undefined;
    }
    return { executable, realPath: realPath.trim(), version: `${major}.${minor}.${patch}`, major, minor, patch };
  } catch {
    return undefined;
  }
}

const newEnough = (python: PythonInterpreter): boolean =>
  python.major === MINIMUM_PYTHON.major && python.minor >= MINIMUM_PYTHON.minor;

const newer = (a: PythonInterpreter, b: PythonInterpreter): boolean =>
  a.major !== b.major ? a.major > b.major : a.minor !== b.minor ? a.minor > b.minor : a.patch > b.patch;

/** pyenv's installed CPython versions first, then the usual names on PATH. */
export function candidateInterpreters(options: FindPythonOptions = {}): string[] {
  const candidates: string[] = [];
  const versions = join(options.pyenvRoot ?? join(homedir(), '.pyenv'), 'versions');
  if (existsSync(versions)) {
    for (const name of readdirSync(versions)) {
      if (/^3\.\d+\.\d+$/.test(name)) candidates.push(join(versions, name, 'bin', 'python3'));
    }
  }
  candidates.push(...(options.pathNames ?? ['python3.14', 'python3.13', 'python3.12', 'python3']));
  return candidates;
}

/**
 * The interpreter model environments are built with: the one asked for, else the newest >= 3.12 found.
 * Throws with a message that says what to do when there is none.
 */
export async function findPython(options: FindPythonOptions = {}): Promise<PythonInterpreter> {
  if (options.executable) {
    const chosen = await probePython(options.executable);
    if (!chosen) throw new Error(`the Python interpreter ${options.executable} does not run`);
    if (!newEnough(chosen)) {
      throw new Error(`the Python interpreter ${options.executable} is ${chosen.version}; models need Python >= 3.12`);
    }
    return chosen;
  }
  let best: PythonInterpreter | undefined;
  for (const candidate of candidateInterpreters(options)) {
    const found = await probePython(candidate);
    if (found && newEnough(found) && (!best || newer(found, best))) best = found;
  }
  if (!best) {
    throw new Error(
      'no Python >= 3.12 found (condorgame >= 0.5 needs it): install one (e.g. `pyenv install 3.13`) or name one with --python',
    );
  }
  return best;
}
