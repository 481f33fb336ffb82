// Real `model-runner` processes (crunch-model-runner in .venv-runner) serving a submission folder on
// loopback, for integration tests. Each runs from a temporary copy of its submission (Python writes
// __pycache__ next to the code, and examples/ must stay untouched), in its own process group.
import { type ChildProcess, spawn } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { healthCheckMethod, ServingStatus } from '../../lib/model-runner/proto.js';
import { exampleSubmissions, modelRunner } from './tools.js';

export interface ModelProcessOptions {
  /** A folder under examples/submissions (e.g. 'benchmark') or an absolute path. */
  submission: string;
  /** Extra environment for the model (e.g. MISBEHAVE=raise). */
  env?: Record<string, string>;
  /** Default: a free port on 127.0.0.1. */
  port?: number;
  /** How long to wait for the health check to answer SERVING (default 60 s). */
  readyTimeoutMs?: number;
}

export interface ModelProcess {
  readonly port: number;
  readonly pid: number;
  /** The temporary copy of the submission the process runs. */
  readonly codeDirectory: string;
  /** What the process printed so far (stdout and stderr, the last 64 KiB). */
  output(): string;
  readonly exited: boolean;
  stop(): Promise<void>;
}

const OUTPUT_LIMIT = 64 * 1024;
const running = new Set<ModelProcess>();

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

export async function startModelProcess(options: ModelProcessOptions): Promise<ModelProcess> {
  const source = isAbsolute(options.submission) ? options.submission : resolve(exampleSubmissions, options.submission);
  const workDirectory = await mkdtemp(join(tmpdir(), `model-${basename(source)}-`));
  const codeDirectory = join(workDirectory, 'code');
  await cp(source, codeDirectory, { recursive: true, filter: (path) => !path.includes('__pycache__') });
  const port = options.port ?? (await freePort());

  let output = '';
  let exited = false;
  const child: ChildProcess = spawn(
    modelRunner(),
    ['--code-directory', codeDirectory, '--address', `127.0.0.1:${port}`, '--log-level', 'info'],
    {
      cwd: workDirectory,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      // A scrubbed environment: the model gets nothing of ours but what it needs to run.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: workDirectory, PYTHONUNBUFFERED: '1', ...options.env },
    },
  );
  const capture = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', capture);
  child.stderr?.on('data', capture);
  const exit = new Promise<void>((done) => {
    child.once('exit', (code, signal) => {
      exited = true;
      output += `\n[model-runner exited: ${signal ?? `code ${code}`}]`;
      done();
    });
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`model-runner did not start for ${source}`);

  const handle: ModelProcess = {
    port,
    pid,
    codeDirectory,
    output: () => output,
    get exited() {
      return exited;
    },
    async stop() {
      running.delete(handle);
      if (!exited) {
        killGroup(pid, 'SIGTERM');
        await Promise.race([exit, sleep(3_000)]);
        if (!exited) killGroup(pid, 'SIGKILL');
        await exit;
      }
      await rm(workDirectory, { recursive: true, force: true });
    },
  };
  running.add(handle);

  try {
    await waitUntilServing(port, options.readyTimeoutMs ?? 60_000, () => exited);
  } catch (error) {
    await handle.stop();
    throw new Error(
      `model-runner for ${basename(source)} did not become ready: ${(error as Error).message}\n${output}`,
    );
  }
  return handle;
}

/** Stops every model process this module started and has not stopped yet. */
export async function stopAllModelProcesses(): Promise<void> {
  await Promise.all([...running].map((model) => model.stop()));
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

async function waitUntilServing(port: number, timeoutMs: number, hasExited: () => boolean): Promise<void> {
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  const until = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (hasExited()) throw new Error('the process exited');
      if (Date.now() > until) throw new Error(`no SERVING health answer within ${timeoutMs} ms`);
      const serving = await new Promise<boolean>((done) => {
        client.makeUnaryRequest(
          healthCheckMethod.path,
          (bytes: Buffer) => bytes,
          healthCheckMethod.responseDeserialize,
          healthCheckMethod.requestSerialize({ service: '' }),
          new Metadata(),
          { deadline: Date.now() + 1_000 },
          (error, response) => done(!error && response?.status === ServingStatus.SERVING),
        );
      });
      if (serving) return;
      await sleep(100);
    }
  } finally {
    client.close();
  }
}
