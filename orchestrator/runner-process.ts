import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CappedLog } from './capped-log.js';

/** Per-model limits applied with `ulimit` before the model-runner starts; null lifts one. */
export interface ResourceLimits {
  /** Address space (RLIMIT_AS). Python + grpc + numpy reserve ~1 GiB of virtual memory idle. */
  memoryBytes: number | null;
  /** CPU time over the process's life (RLIMIT_CPU): past it the kernel kills the model, which is restarted. */
  cpuSeconds: number | null;
  /** Largest file the model may write (RLIMIT_FSIZE). */
  fileSizeBytes: number | null;
  /**
   * Processes and threads (RLIMIT_NPROC): counted per uid, so it is per model only in a sandbox run
   * as root (each model has its own uid); elsewhere it counts every process of the user.
   */
  processes: number | null;
  /** Size of the sandbox's private home and of its tmp, each (tmpfs, counted in memory). */
  scratchBytes: number;
  /** CPU priority of models under the coordinator's (nice; 0 = the same). */
  nice: number;
}

export const DEFAULT_LIMITS: ResourceLimits = {
  memoryBytes: 4 * 1024 ** 3,
  cpuSeconds: 3600,
  fileSizeBytes: 1024 ** 3,
  processes: 256,
  scratchBytes: 256 * 1024 ** 2,
  nice: 10,
};

/**
 * The whole environment of a model process, built from nothing: participant code is untrusted, so
 * none of our variables (database URLs, Temporal settings, tokens) can leak into it.
 */
export function modelEnvironment(
  envDir: string,
  home: string,
  extra: Record<string, string> = {},
  tmp = join(home, 'tmp'),
): NodeJS.ProcessEnv {
  if (tmp.startsWith(home)) mkdirSync(tmp, { recursive: true });
  return {
    PATH: `${join(envDir, 'bin')}:/usr/local/bin:/usr/bin:/bin`,
    HOME: home,
    TMPDIR: tmp,
    LANG: 'C.UTF-8',
    VIRTUAL_ENV: envDir,
    PYTHONUNBUFFERED: '1',
    // Keeps the submission folder free of __pycache__ churn.
    PYTHONDONTWRITEBYTECODE: '1',
    // Fewer malloc arenas and BLAS threads: less virtual memory under RLIMIT_AS, no core oversubscription.
    MALLOC_ARENA_MAX: '2',
    OPENBLAS_NUM_THREADS: '1',
    OMP_NUM_THREADS: '1',
    MKL_NUM_THREADS: '1',
    ...extra,
  };
}

/** The `sh -c` script that sets the limits and then becomes the command ("$@"), keeping its pid. */
export function limitsScript(limits: ResourceLimits): string {
  const lines: string[] = [];
  const set = (flag: string, value: number, what: string): void => {
    lines.push(
      `ulimit ${flag} ${value} || { echo "cannot set the ${what} limit (ulimit ${flag} ${value})" >&2; exit 126; }`,
    );
  };
  if (limits.memoryBytes !== null) set('-v', Math.ceil(limits.memoryBytes / 1024), 'memory');
  if (limits.cpuSeconds !== null) set('-t', Math.ceil(limits.cpuSeconds), 'CPU-time');
  // POSIX sh counts file sizes in 512-byte blocks.
  if (limits.fileSizeBytes !== null) set('-f', Math.ceil(limits.fileSizeBytes / 512), 'file-size');
  if (limits.processes !== null && limits.processes !== undefined) set('-p', limits.processes, 'process');
  lines.push(limits.nice ? `exec nice -n ${limits.nice} "$@"` : 'exec "$@"');
  return lines.join('\n');
}

export interface RunnerProcessOptions {
  modelRunner: string;
  codeDir: string;
  /** Where the model-runner serves: `host:port`, or `unix:/path` in a sandbox. */
  address: string;
  /** Wraps the model-runner's command line (a sandbox); default none. */
  wrap?: (command: string[]) => { command: string; args: string[] };
  /** Closed with the process: the TCP proxy of a sandboxed model. */
  proxy?: { port: number; close(): Promise<void> };
  /** The port clients dial: the proxy's, or the one in `address`. */
  port: number;
  env: NodeJS.ProcessEnv;
  limits: ResourceLimits;
  log: CappedLog;
}

export interface RunnerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * One `model-runner` process in its own process group, so that stopping it also stops whatever the
 * participant's code started. Output goes to the model's runner log.
 */
export class RunnerProcess {
  readonly pid: number;
  readonly port: number;
  readonly exited: Promise<RunnerExit>;
  private exit: RunnerExit | undefined;
  private readonly child: ChildProcess;

  constructor(options: RunnerProcessOptions) {
    this.port = options.port;
    const runner = [options.modelRunner, '--code-directory', options.codeDir, '--address', options.address];
    const wrapped = options.wrap ? options.wrap(runner) : { command: runner[0] ?? '', args: runner.slice(1) };
    this.child = spawn(
      '/bin/sh',
      ['-c', limitsScript(options.limits), 'model-runner', wrapped.command, ...wrapped.args],
      {
        cwd: options.codeDir,
        env: options.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const proxy = options.proxy;
    const write = (chunk: Buffer): void => options.log.write(chunk.toString());
    this.child.stdout?.on('data', write);
    this.child.stderr?.on('data', write);
    this.exited = new Promise<RunnerExit>((resolve) => {
      this.child.once('error', (error) => {
        options.log.line(`could not start the model process: ${error.message}`);
        this.exit = { code: null, signal: null };
        resolve(this.exit);
      });
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    if (proxy) void this.exited.then(() => proxy.close());
    this.pid = this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** SIGTERM to the group, SIGKILL after the grace period, and SIGKILL again for any stragglers. */
  async stop(graceMs = 5_000): Promise<RunnerExit> {
    if (this.running) {
      this.signalGroup('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), graceMs);
      });
      const outcome = await Promise.race([this.exited, graceOver]);
      clearTimeout(timer);
      if (outcome === 'late') this.signalGroup('SIGKILL');
    }
    const exit = await this.exited;
    this.signalGroup('SIGKILL');
    return exit;
  }

  private signalGroup(signal: NodeJS.Signals): void {
    if (this.pid <= 0) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // the group is already gone
    }
  }
}

/** A plain-words account of an exit, for logs. */
export function describeExit(exit: RunnerExit): string {
  if (exit.signal === 'SIGXCPU') return 'was killed for passing its CPU-time limit (SIGXCPU)';
  if (exit.signal) return `was killed by ${exit.signal}`;
  if (exit.code === 126) return 'could not start (exit 126: a limit could not be set or the command is not executable)';
  return `exited with code ${exit.code}`;
}
