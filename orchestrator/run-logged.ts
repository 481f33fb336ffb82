import { spawn } from 'node:child_process';

export interface RunLoggedOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  output: (text: string) => void;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

export interface RunLoggedResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last few KiB of output, for error messages. */
  tail: string;
  timedOut: boolean;
}

const TAIL_CHARS = 4000;

/**
 * Runs a command in its own process group, streaming its output, and kills the whole group on
 * timeout or abort (pip starts build back-ends as children).
 */
export function runLogged(command: string, args: string[], options: RunLoggedOptions): Promise<RunLoggedResult> {
  return new Promise((resolve, reject) => {
    let tail = '';
    let timedOut = false;
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString();
      tail = (tail + text).slice(-TAIL_CHARS);
      options.output(text);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);
    const onAbort = (): void => killGroup();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (error) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ code, signal, tail, timedOut });
    });
  });
}
