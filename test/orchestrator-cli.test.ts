// `coordinator orchestrator` as a user runs it: a real CLI process, SIGTERM, and no process left behind.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelStatus } from '../orchestrator/index.js';
import { copyExamples, type Workspace } from '../orchestrator/testing/harness.js';
import { processesMatching, processRunning } from '../orchestrator/testing/processes.js';
import { exampleSubmissions, repoRoot } from './support/tools.js';

const coordinator = join(repoRoot, 'bin', 'coordinator.mjs');

const portOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

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
  let output = '';

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
    cli = spawn(
      process.execPath,
      [
        coordinator,
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
      ],
      {
        cwd: repoRoot,
        env: {
          ...process.env,
          LOG_LEVEL: 'info',
          DATABASE_URL: 'postgres://u:secret@db/x',
          TEMPORAL_ADDRESS: 'tmp:7233',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const child = cli;
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    await expect.poll(() => output, { timeout: 30_000 }).toMatch(/models at http:\/\/127\.0\.0\.1:\d+\/models/);
    const api = output.match(/models at (http:\/\/127\.0\.0\.1:\d+)\/models/)?.[1];
    const discoveryPort = Number(output.match(/discovery on ws:\/\/127\.0\.0\.1:(\d+)\/condorgame/)?.[1]);
    let models: ModelStatus[] = [];
    await expect
      .poll(
        async () => {
          models = (await (await fetch(`${api}/models`)).json()) as ModelStatus[];
          return models.map((model) => `${model.id}:${model.phase}`);
        },
        { timeout: 100_000, interval: 500 },
      )
      .toEqual(['benchmark:running', 'mixture:running']);

    const pids = models.map((model) => model.pid ?? 0);
    const ports = models.map((model) => model.port ?? 0);
    for (const [index, pid] of pids.entries()) {
      const environ = environOf(pid);
      expect(environ.DATABASE_URL).toBeUndefined();
      expect(environ.TEMPORAL_ADDRESS).toBeUndefined();
      expect(environ.HOME).toBe(join(workspace.stateDir, 'models', models[index]?.id ?? '', 'home'));
      expect(processGroupOf(pid)).toBe(pid);
    }
    expect(processesMatching(`--code-directory ${workspace.submissionsDir}`).sort()).toEqual([...pids].sort());

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const pid of pids) expect(processRunning(pid)).toBe(false);
    expect(processesMatching(`--code-directory ${workspace.submissionsDir}`)).toEqual([]);
    for (const port of [...ports, discoveryPort]) expect(await portOpen(port)).toBe(false);
    expect(output).toMatch(/received SIGTERM: stopping every model/);
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
