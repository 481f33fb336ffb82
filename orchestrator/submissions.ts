import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface Submission {
  id: string;
  dir: string;
  /** Content hash of every file that counts (code, requirements, resources): a change means redeploy. */
  fingerprint: string;
  /** The text of requirements.txt, or undefined when the submission has none. */
  requirements: string | undefined;
  hasMain: boolean;
}

/** Files that change without the participant changing anything. */
const IGNORED = new Set(['__pycache__', '.git', '.venv', '.mypy_cache', '.pytest_cache', '.DS_Store']);
const ignored = (name: string): boolean => IGNORED.has(name) || name.endsWith('.pyc') || name.endsWith('~');

/** A folder name that can be a submission id (and a model id without a models file). */
export const SUBMISSION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Content hashes of files, recomputed only when a file's size or mtime moves: submissions are
 * rescanned every few seconds and may carry large resource files.
 */
export class FileHashCache {
  private readonly hashes = new Map<string, { size: number; mtimeMs: number; hash: string }>();

  hashOf(path: string): string {
    const stats = statSync(path);
    const known = this.hashes.get(path);
    if (known && known.size === stats.size && known.mtimeMs === stats.mtimeMs) return known.hash;
    const hash = createHash('sha256').update(readFileSync(path)).digest('hex');
    this.hashes.set(path, { size: stats.size, mtimeMs: stats.mtimeMs, hash });
    return hash;
  }
}

function fingerprintOf(dir: string, files: FileHashCache): string {
  const hash = createHash('sha256');
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (ignored(entry.name)) continue;
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) hash.update(`${relative(dir, path)}\0${files.hashOf(path)}\0`);
    }
  };
  walk(dir);
  return hash.digest('hex').slice(0, 16);
}

/** One submission folder, or undefined when it vanished while being read. */
export function readSubmission(root: string, id: string, files = new FileHashCache()): Submission | undefined {
  const dir = join(root, id);
  try {
    if (!statSync(dir).isDirectory()) return undefined;
    const requirementsPath = join(dir, 'requirements.txt');
    return {
      id,
      dir,
      fingerprint: fingerprintOf(dir, files),
      requirements: existsSync(requirementsPath) ? readFileSync(requirementsPath, 'utf8') : undefined,
      hasMain: existsSync(join(dir, 'main.py')),
    };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Every submission under `root`: one folder each, hidden folders and odd names skipped. */
export function scanSubmissions(root: string, files = new FileHashCache()): Map<string, Submission> {
  if (!existsSync(root)) throw new Error(`the submissions directory ${root} does not exist`);
  const found = new Map<string, Submission>();
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || ignored(entry.name) || !SUBMISSION_ID.test(entry.name)) continue;
    const submission = readSubmission(root, entry.name, files);
    if (submission) found.set(entry.name, submission);
  }
  return found;
}
