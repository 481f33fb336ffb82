// `coordinator orchestrator` as a user runs it: a real CLI process, SIGTERM, and no process left behind.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelStatus } from '../orchestrator/index.js';
import { copyExamples, type Workspace } from '../orchestrator/testing/harness.js';
import { portOpen, processesMatching, processRunning } from '../orchestrator/testing/processes.js';
import { exampleSubmissions, repoRoot } from './support/tools.js';

const coordinator = join(repoRoot, 'bin', 'coordinator.mjs');

const environOf = (pid: number): Record<string, string> =>
  Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );

const processGroupOf = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
};

describe('coordinator orchestrator (CLI)', () => {
  let workspace: Workspace;
  let cli: ChildProcess | undefined;

  beforeAll(() => {
    workspace = copyExamples(exampleSubmissions, ['benchmark', 'mixture']);
  });
  afterAll(async () => {
    // A failed assertion must not leave the CLI or its models behind.
    if (cli && cli.exitCode === null && cli.signalCode === null) {
      const exited = new Promise((resolve) => cli?.once('exit', resolve));
      cli.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
    }
    for (const pid of processesMatching(`--code-directory ${workspace.submissionsDir}`)) process.kill(-pid, 'SIGKILL');
    workspace?.remove();
  });

  it('runs the submissions with a scrubbed environment, and SIGTERM leaves no child process', async () => {
    const run = startCli(workspace, 'node', { DATABASE_URL: 'postgres://u:secret@db/x', TEMPORAL_ADDRESS: 'tmp:7233' });
    cli = run.child;
    const child = cli;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const models = await run.running(2);
    expect(models.map((model) => model.id)).toEqual(['benchmark', 'mixture']);
    const output = (): string => run.state.output;
    const discoveryPort = Number(output().match(/discovery on ws:\/\/127\.0\.0\.1:(\d+)\/condorgame/)?.[1]);

    const pids = models.map((model) => model.pid ?? 0);
    const ports = models.map((model) => model.port ?? 0);
    for (const pid of pids) {
      // The sandbox's own process: what it and the model inherit is built from nothing.
      const environ = environOf(pid);
      expect(environ.DATABASE_URL).toBeUndefined();
      expect(environ.TEMPORAL_ADDRESS).toBeUndefined();
      expect(environ.HOME).toBe('/sandbox/home');
      expect(processGroupOf(pid)).toBe(pid);
    }
    // Each model is its sandbox (bwrap outside and as PID 1 inside) and the model-runner in it.
    const sandboxed = processesMatching(`--code-directory ${workspace.submissionsDir}`);
    expect(sandboxed).toEqual(expect.arrayContaining(pids));
    expect(sandboxed.length).toBe(pids.length * 3);
    expect(output()).toMatch(/submissions run sandboxed by bubblewrap/);
    expect(output()).toMatch(/model limits by rlimits \(.*\): address space 4096 MiB.*CPU priority nice 10/);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const pid of pids) expect(processRunning(pid)).toBe(false);
    expect(processesMatching(`--code-directory ${workspace.submissionsDir}`)).toEqual([]);
    for (const port of [...ports, discoveryPort]) expect(await portOpen(port)).toBe(false);
    expect(output()).toMatch(/received SIGTERM: stopping every model/);
  });

  it('explains bad arguments instead of crashing', () => {
    const badPort = spawnSync(process.execPath, [coordinator, 'orchestrator', '--submissions', '.', '--port', 'x'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(badPort.status).not.toBe(0);
    expect(badPort.stderr).toMatch(/--port must be a whole number from 0 to 65535/);

    const missing = spawnSync(
      process.execPath,
      [coordinator, 'orchestrator', '--submissions', join(workspace.root, 'nope'), '--port', '0', '--http-port', '0'],
      { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'info' } },
    );
    expect(missing.status).toBe(1);
    expect(missing.stdout).toMatch(/the submissions directory .*nope does not exist/);
  });
});

/** The CLI as a child process, its output gathered; `npx` runs it as a user would, under npm and sh. */
function startCli(workspace: Workspace, via: 'node' | 'npx', env: Record<string, string> = {}) {
  const args = [
    'orchestrator',
    '--submissions',
    workspace.submissionsDir,
    '--port',
    '0',
    '--http-port',
    '0',
    '--cache-dir',
    join(repoRoot, '.cache', 'test-envs'),
    '--state-dir',
    workspace.stateDir,
    '--watch-interval',
    '200',
  ];
  const [command, prefix] = via === 'node' ? [process.execPath, [coordinator]] : ['npx', ['coordinator']];
  const child = spawn(command, [...prefix, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
  });
  const state = { output: '' };
  child.stdout?.on('data', (chunk: Buffer) => {
    state.output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    state.output += chunk.toString();
  });
  const running = async (count: number): Promise<ModelStatus[]> => {
    await expect.poll(() => state.output, { timeout: 60_000 }).toMatch(/models at http:\/\/127\.0\.0\.1:\d+\/models/);
    const api = state.output.match(/models at (http:\/\/127\.0\.0\.1:\d+)\/models/)?.[1];
    let models: ModelStatus[] = [];
    await expect
      .poll(
        async () => {
          models = (await (await fetch(`${api}/models`)).json()) as ModelStatus[];
          return models.filter((model) => model.phase === 'running').length;
        },
        { timeout: 150_000, interval: 500 },
      )
      .toBe(count);
    return models;
  };
  return { child, state, running };
}

describe('coordinator orchestrator leaves nothing behind', () => {
  let workspace: Workspace;
  const leftovers = (): number[] => processesMatching(`--code-directory ${workspace.submissionsDir}`);

  beforeAll(() => {
    workspace = copyExamples(exampleSubmissions, ['benchmark']);
  });
  afterAll(() => {
    for (const pid of leftovers()) process.kill(pid, 'SIGKILL');
    workspace?.remove();
  });

  it('kill -9 of the orchestrator leaves no model process, and a restart finds nothing to clean', async () => {
    const first = startCli(workspace, 'node');
    const [model] = await first.running(1);
    expect(leftovers().length).toBeGreaterThan(0);
    first.child.kill('SIGKILL');
    // bwrap --die-with-parent: the sandbox gets SIGKILL from the kernel when its parent dies.
    await expect.poll(leftovers, { timeout: 20_000 }).toEqual([]);
    expect(processRunning(model?.pid ?? 0)).toBe(false);

    const second = startCli(workspace, 'node');
    await second.running(1);
    expect(second.state.output).not.toMatch(/left by an earlier orchestrator/);
    const exited = new Promise((resolve) => second.child.once('exit', resolve));
    second.child.kill('SIGTERM');
    await exited;
    await expect.poll(leftovers, { timeout: 20_000 }).toEqual([]);
    // Not even the killed sandbox's socket folder is left.
    const modelDir = join(workspace.stateDir, 'models', 'benchmark');
    expect(readdirSync(modelDir).filter((name) => name.startsWith('run-'))).toEqual([]);
  }, 300_000);

  it('SIGTERM to `npx coordinator orchestrator` stops everything', async () => {
    const run = startCli(workspace, 'npx');
    await run.running(1);
    const cliProcesses = (): number[] => processesMatching(`--state-dir ${workspace.stateDir}`);
    expect(cliProcesses().length).toBeGreaterThan(0);
    run.child.kill('SIGTERM');
    await expect.poll(leftovers, { timeout: 30_000 }).toEqual([]);
    await expect.poll(cliProcesses, { timeout: 30_000 }).toEqual([]);
  }, 300_000);
});
