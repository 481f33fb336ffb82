import { createHash } from 'node:crypto';
import {
  chownSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../lib/log/index.js';
import type { PythonInterpreter } from './python.js';
import { runLogged } from './run-logged.js';
import { type Isolation, SANDBOX_HOME, SANDBOX_TMP, sandboxCommand } from './sandbox.js';

const log = createLogger('orchestrator');

/** What every model environment holds besides the submission's requirements (python/requirements-runner.txt). */
export const RUNNER_REQUIREMENTS: readonly string[] = [
  'crunch-model-runner==0.4.2',
  // Pinned so pip does not backtrack through dozens of releases to reconcile grpc and protobuf.
  'grpcio-health-checking==1.71.2',
  'protobuf==5.29.6',
];

/**
 * The variables pip needs from our environment (its configuration, certificates, proxies, caches),
 * and nothing else: no database URLs, Temporal settings or tokens reach a build.
 */
export function buildEnvironment(parent: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const keep =
    /^(PATH|HOME|LANG|LC_[A-Z]+|TMPDIR|PIP_[A-Z0-9_]+|SSL_CERT_FILE|SSL_CERT_DIR|REQUESTS_CA_BUNDLE|XDG_CONFIG_HOME|XDG_CONFIG_DIRS|XDG_CACHE_HOME|https?_proxy|no_proxy|HTTPS?_PROXY|NO_PROXY)$/;
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(parent)) if (keep.test(key) && value !== undefined) env[key] = value;
  env.PYTHONUNBUFFERED = '1';
  env.PIP_DISABLE_PIP_VERSION_CHECK = '1';
  env.PIP_NO_INPUT = '1';
  return env;
}

export interface EnvironmentCacheOptions {
  /** Where environments live, one folder per requirements hash; shared safely between processes. */
  cacheDir: string;
  python: PythonInterpreter;
  runnerRequirements?: readonly string[];
  /** The environment pip runs in; default `buildEnvironment(process.env)`. */
  env?: NodeJS.ProcessEnv;
  /** A build that takes longer is killed and fails (default 20 min). */
  buildTimeoutMs?: number;
  /** Runs each build step in a sandbox with network access and nothing of ours visible; default none. */
  sandbox?: BuildSandbox;
}

export interface BuildSandbox {
  isolation: Extract<Isolation, { kind: 'bubblewrap' }>;
  /** The uid builds run as when the orchestrator is root. */
  uid: number;
  /** The interpreter's install folder, mounted read-only. */
  pythonHome: string;
  /** Size of the build's private home and tmp, each (pip unpacks wheels there). */
  scratchBytes: number;
}

export interface EnvironmentRequest {
  /** Text of requirements.txt: with the interpreter and the runner pins, it keys the cache. */
  requirements: string;
  /** The file pip reads (relative lines in it resolve against its folder). */
  requirementsPath: string;
  /** pip's working directory, the submission folder, for local paths in the requirements. */
  cwd: string;
  /** Who asks, for the terminal log: a model id. */
  label: string;
  /** Receives build output (pip's and ours) for the asker's build log. */
  output?: (text: string) => void;
}

export interface Environment {
  hash: string;
  dir: string;
  python: string;
  modelRunner: string;
  /** True when an existing environment was used as is (nothing installed). */
  reused: boolean;
  seconds: number;
}

export class EnvironmentBuildError extends Error {
  readonly outputTail: string;
  constructor(message: string, outputTail: string) {
    super(message);
    this.name = 'EnvironmentBuildError';
    this.outputTail = outputTail;
  }
}

interface Build {
  listeners: Set<(text: string) => void>;
  done: Promise<Environment>;
}

// Keyed by environment folder: two caches in one process (two orchestrators) share one build.
const buildsInProgress = new Map<string, Build>();

const READY_STAMP = '.ready.json';
const LOCK_POLL_MS = 500;

const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Python virtualenvs for submissions, one per distinct requirements (+ interpreter + runner pins),
 * kept across runs. A build goes into a temporary folder renamed into place once complete, under a
 * lock file, so concurrent builders (threads of this process or other processes) never collide and
 * a crash never leaves a half-built environment that looks ready.
 */
export class EnvironmentCache {
  readonly cacheDir: string;
  private readonly python: PythonInterpreter;
  private readonly runnerRequirements: readonly string[];
  private readonly env: NodeJS.ProcessEnv;
  private readonly buildTimeoutMs: number;
  private readonly sandbox: BuildSandbox | undefined;
  private readonly aborter = new AbortController();

  constructor(options: EnvironmentCacheOptions) {
    this.cacheDir = options.cacheDir;
    this.python = options.python;
    this.runnerRequirements = options.runnerRequirements ?? RUNNER_REQUIREMENTS;
    this.env = options.env ?? buildEnvironment();
    this.buildTimeoutMs = options.buildTimeoutMs ?? 20 * 60_000;
    this.sandbox = options.sandbox;
  }

  /** The cache key of a requirements text with this cache's interpreter and pins. */
  hashOf(requirements: string): string {
    return createHash('sha256')
      .update(JSON.stringify({ requirements, python: this.python.realPath, version: this.python.version }))
      .update(JSON.stringify(this.runnerRequirements))
      .digest('hex')
      .slice(0, 16);
  }

  dirOf(hash: string): string {
    return join(this.cacheDir, hash);
  }

  /** An environment for these requirements: the cached one, or one built now. */
  async ensure(request: EnvironmentRequest): Promise<Environment> {
    const hash = this.hashOf(request.requirements);
    const dir = this.dirOf(hash);
    const output = request.output ?? (() => {});
    const started = Date.now();
    const existing = buildsInProgress.get(dir);
    if (existing) {
      output(`joining the build of environment ${hash} already in progress\n`);
      existing.listeners.add(output);
      try {
        const environment = await existing.done;
        return { ...environment, reused: true, seconds: (Date.now() - started) / 1000 };
      } finally {
        existing.listeners.delete(output);
      }
    }
    if (this.isReady(dir)) return this.reuse(hash, request, started);
    const listeners = new Set([output]);
    const done = this.lockAndBuild(hash, request, listeners, started);
    buildsInProgress.set(dir, { listeners, done });
    try {
      return await done;
    } finally {
      buildsInProgress.delete(dir);
    }
  }

  /** Kills builds in progress (their `ensure` calls fail); used at shutdown. */
  close(): void {
    this.aborter.abort();
  }

  private isReady(dir: string): boolean {
    return existsSync(join(dir, READY_STAMP)) && existsSync(join(dir, 'bin', 'model-runner'));
  }

  private reuse(hash: string, request: EnvironmentRequest, started: number): Environment {
    const dir = this.dirOf(hash);
    log.info({ model: request.label, hash, dir }, `reusing environment ${hash} for ${request.label}`);
    request.output?.(`reusing environment ${hash} in ${dir}: nothing to install\n`);
    return this.describe(hash, true, started);
  }

  private describe(hash: string, reused: boolean, started: number): Environment {
    const dir = this.dirOf(hash);
    return {
      hash,
      dir,
      python: join(dir, 'bin', 'python'),
      modelRunner: join(dir, 'bin', 'model-runner'),
      reused,
      seconds: (Date.now() - started) / 1000,
    };
  }

  private async lockAndBuild(
    hash: string,
    request: EnvironmentRequest,
    listeners: Set<(text: string) => void>,
    started: number,
  ): Promise<Environment> {
    const say = (text: string): void => {
      for (const listener of listeners) listener(text);
    };
    mkdirSync(this.cacheDir, { recursive: true });
    const lock = join(this.cacheDir, `${hash}.lock`);
    let waitingSaid = false;
    for (;;) {
      if (this.aborter.signal.aborted) throw new Error('the orchestrator stopped before the environment was built');
      if (this.tryLock(lock)) break;
      if (!waitingSaid) {
        waitingSaid = true;
        say(`another process is building environment ${hash}: waiting for it\n`);
        log.info({ model: request.label, hash }, `waiting for another process building environment ${hash}`);
      }
      await sleep(LOCK_POLL_MS);
    }
    try {
      // The holder we waited for may have finished the very environment we want.
      if (this.isReady(this.dirOf(hash))) return this.reuse(hash, request, started);
      this.removeAbandonedBuilds(hash);
      await this.build(hash, request, say);
      return this.describe(hash, false, started);
    } finally {
      rmSync(lock, { force: true });
    }
  }

  /** Temporary folders of builds whose process died; only called while holding the hash's lock. */
  private removeAbandonedBuilds(hash: string): void {
    for (const name of readdirSync(this.cacheDir)) {
      if (name.startsWith(`.build-${hash}-`)) rmSync(join(this.cacheDir, name), { recursive: true, force: true });
    }
  }

  /** Takes the lock file, removing it first when its holder is dead. */
  private tryLock(lock: string): boolean {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    try {
      const holder = Number(readFileSync(lock, 'utf8').trim());
      const stale =
        Number.isInteger(holder) && holder > 0 ? !pidAlive(holder) : Date.now() - statSync(lock).mtimeMs > 60_000;
      if (stale) rmSync(lock, { force: true });
    } catch {
      // the holder released it meanwhile: next attempt takes it
    }
    return false;
  }

  private async build(hash: string, request: EnvironmentRequest, say: (text: string) => void): Promise<void> {
    const dir = this.dirOf(hash);
    const temp = join(this.cacheDir, `.build-${hash}-${process.pid}-${Date.now()}`);
    const started = Date.now();
    const message = `building environment for ${request.label} (requirements hash ${hash}) with Python ${this.python.version} ...`;
    log.info({ model: request.label, hash, python: this.python.realPath }, message);
    say(`${message}\n`);
    const progress = setInterval(() => {
      log.info(
        { model: request.label, hash },
        `environment ${hash} still building (${Math.round((Date.now() - started) / 1000)} s)`,
      );
    }, 15_000);
    const sandbox = this.sandbox;
    const step = async (what: string, command: string, args: string[]): Promise<void> => {
      const run = sandbox
        ? sandboxCommand(
            sandbox.isolation,
            {
              uid: sandbox.uid,
              network: true,
              tmpfsBytes: sandbox.scratchBytes,
              readOnly: [sandbox.pythonHome, request.cwd],
              writable: [temp],
              cwd: request.cwd,
            },
            [command, ...args],
          )
        : { command, args };
      const result = await runLogged(run.command, run.args, {
        cwd: request.cwd,
        env: sandbox ? { ...this.env, HOME: SANDBOX_HOME, TMPDIR: SANDBOX_TMP } : this.env,
        output: say,
        timeoutMs: this.buildTimeoutMs,
        signal: this.aborter.signal,
      });
      if (result.code === 0) return;
      const why = result.timedOut
        ? `timed out after ${Math.round(this.buildTimeoutMs / 1000)} s`
        : this.aborter.signal.aborted
          ? 'was stopped'
          : `failed (exit ${result.code ?? result.signal})`;
      throw new EnvironmentBuildError(`${what} ${why}`, result.tail);
    };
    try {
      rmSync(temp, { recursive: true, force: true });
      if (sandbox) {
        // The sandbox writes only here, as its own unprivileged user.
        mkdirSync(temp);
        if (sandbox.isolation.asRoot) chownSync(temp, sandbox.uid, sandbox.uid);
      }
      await step('creating the virtualenv', this.python.realPath, ['-m', 'venv', temp]);
      await step('pip install', join(temp, 'bin', 'python'), [
        '-m',
        'pip',
        'install',
        '--disable-pip-version-check',
        '--no-input',
        '-r',
        request.requirementsPath,
        ...this.runnerRequirements,
      ]);
      if (!existsSync(join(temp, 'bin', 'model-runner'))) {
        throw new EnvironmentBuildError('the environment has no model-runner command after pip install', '');
      }
      // Ours again, so no model (or later build) running as that uid could change it.
      if (sandbox?.isolation.asRoot) chownTree(temp, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
      relocate(temp, dir);
      writeFileSync(
        join(temp, READY_STAMP),
        `${JSON.stringify({ hash, python: this.python.realPath, version: this.python.version, requirements: request.requirements, runner: this.runnerRequirements, builtAt: new Date().toISOString() }, null, 2)}\n`,
      );
      // A leftover folder without a stamp is a build that crashed after an old-style rename: replace it.
      rmSync(dir, { recursive: true, force: true });
      renameSync(temp, dir);
      const seconds = Math.round((Date.now() - started) / 1000);
      log.info({ model: request.label, hash, seconds }, `environment ready in ${seconds} s`);
      say(`environment ${hash} ready in ${seconds} s\n`);
    } catch (error) {
      rmSync(temp, { recursive: true, force: true });
      const reason = error instanceof Error ? error.message : String(error);
      log.error({ model: request.label, hash, error: reason }, `environment for ${request.label} could not be built`);
      say(`environment ${hash} could not be built: ${reason}\n`);
      throw error;
    } finally {
      clearInterval(progress);
    }
  }
}

function chownTree(path: string, uid: number, gid: number): void {
  lchownSync(path, uid, gid);
  if (!lstatSync(path).isDirectory()) return;
  for (const name of readdirSync(path)) chownTree(join(path, name), uid, gid);
}

/**
 * Rewrites the build folder's own path to the final one in bin/ scripts (console-script shebangs,
 * activate scripts) and pyvenv.cfg: a virtualenv names its location in those files, and it is built
 * elsewhere than where it will live.
 */
function relocate(from: string, to: string): void {
  const files = [join(from, 'pyvenv.cfg')];
  const bin = join(from, 'bin');
  for (const name of readdirSync(bin)) files.push(join(bin, name));
  for (const file of files) {
    let stats: ReturnType<typeof lstatSync>;
    try {
      stats = lstatSync(file);
    } catch {
      continue;
    }
    // bin/python is a symlink to the base interpreter: never write through it.
    if (!stats.isFile() || stats.size > 1_000_000) continue;
    const content = readFileSync(file);
    if (content.includes(0)) continue;
    const text = content.toString('utf8');
    if (text.includes(from)) writeFileSync(file, text.split(from).join(to));
  }
}
