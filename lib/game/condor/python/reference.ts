// Runs the Python reference scorer (reference_scoring.py) with one JSON request. Only tests and
// benchmarks use it; the coordinator itself never starts Python for scoring.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const referenceScript = resolve(import.meta.dirname, 'reference_scoring.py');

/** Sends `request` to the script under `python` (an interpreter with densitypdf, scipy and numpy) and parses its answer. */
export function runReference<T>(python: string, request: Record<string, unknown>): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(python, [referenceScript], { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(
          new Error(
            `the Python reference scorer exited with ${code}: ${Buffer.concat(stderr).toString().slice(-2000)}`,
          ),
        );
        return;
      }
      try {
        resolvePromise(JSON.parse(Buffer.concat(stdout).toString()) as T);
      } catch (error) {
        reject(new Error(`the Python reference scorer printed something that is not JSON: ${String(error)}`));
      }
    });
    child.stdin.end(JSON.stringify(request));
  });
}
