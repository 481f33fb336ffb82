// `npm start` on a machine where no PostgreSQL answers and DATABASE_URL is unset: the stack runs in a
// network namespace of its own (the machine's server is out of reach there), brings up an embedded
// PostgreSQL from the npm package, and still predicts, scores and ranks. Probes run inside the same
// namespace with nsenter. Needs root for the namespace (CI and set-up run as root).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvironmentCache, findPython } from '../orchestrator/index.js';
import { processesMatching } from '../orchestrator/testing/processes.js';
import { exampleSubmissions, repoRoot } from './support/tools.js';
import { waitFor } from './support/wait-for.js';

describe('npm start with no PostgreSQL in reach (embedded fallback)', () => {
  let stack: ChildProcess;
  let output = '';
  const work = mkdtempSync(join(tmpdir(), 'coordinator-embedded-'));
  // Inside its own namespace the stack has the whole loopback to itself: the default ports are free.
  const gateway = 'http://127.0.0.1:8000';

  /** GET a JSON document from inside the stack's network namespace. */
  function getInside(url: string): unknown {
    const script = `fetch(${JSON.stringify(url)}).then(async (r) => { if (!r.ok) throw new Error(String(r.status)); process.stdout.write(await r.text()); })`;
    const text = execFileSync('nsenter', ['--target', String(stack.pid), '--net', process.execPath, '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    return JSON.parse(text);
  }

  beforeAll(async () => {
    if (process.getuid?.() !== 0) {
      throw new Error('this test makes a network namespace (unshare --net): run the suite as root, as CI does');
    }
    // As root the embedded server runs as the postgres account, which must enter the data folder.
    chmodSync(work, 0o755);
    // The namespace has no network, so pip cannot run there: the models' environments are built (or found in
    // the cache the stack uses) first, out here.
    const cache = new EnvironmentCache({ cacheDir: resolve(repoRoot, '.cache', 'envs'), python: await findPython() });
    for (const name of ['benchmark', 'mixture']) {
      const submission = join(work, 'submissions', name);
      cpSync(resolve(exampleSubmissions, name), submission, { recursive: true });
      const requirementsPath = join(submission, 'requirements.txt');
      await cache.ensure({
        requirements: readFileSync(requirementsPath, 'utf8'),
        requirementsPath,
        cwd: submission,
        label: name,
      });
    }
    const start = [
      'ip link set lo up',
      // What `npm start` runs: the set-up (which finds no server here and says so), then the stack.
      `node ${JSON.stringify(resolve(repoRoot, 'scripts/setup.mjs'))}`,
      `exec node ${JSON.stringify(resolve(repoRoot, 'bin/coordinator.mjs'))} start --submissions ${JSON.stringify(
        join(work, 'submissions'),
      )} --data-dir ${JSON.stringify(join(work, 'data'))}`,
    ].join(' && ');
    stack = spawn('unshare', ['--net', '--', 'sh', '-c', start], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        GAME: 'condor-quick',
        MARKET_DATA: 'synthetic:5',
        SCORE_EVERY_SECONDS: '10',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    stack.stdout?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-200_000);
    });
    stack.stderr?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-200_000);
    });
  }, 600_000);

  afterAll(() => {
    if (stack && stack.exitCode === null) stack.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  });

  it('says which database it uses, and ranks the models on the gateway', async () => {
    await waitFor('the start banner', 300_000, async () => {
      if (stack.exitCode !== null) throw new Error(`the stack exited (${stack.exitCode}):\n${output.slice(-5000)}`);
      return output.includes('The coordinator is running') ? true : undefined;
    });
    expect(output).toContain('npm start will run an embedded PostgreSQL');
    expect(output).toMatch(/database: embedded PostgreSQL \d+/);
    expect(output).toMatch(/database\s+postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/coordinator \(embedded\)/);
    expect(existsSync(join(work, 'data', 'postgres', 'PG_VERSION'))).toBe(true);

    const leaderboard = await waitFor('a ranked leaderboard with both models', 480_000, async () => {
      const rows = getInside(`${gateway}/reports/leaderboard`) as Array<{
        model_id: string;
        rank: number;
        score_recent: number | null;
      }>;
      return rows.length === 2 && rows.every((row) => row.score_recent !== null) ? rows : undefined;
    });
    expect(leaderboard.map((row) => row.rank)).toEqual([1, 2]);
    expect(leaderboard.map((row) => row.model_id).sort()).toEqual(['benchmark', 'mixture']);
  }, 800_000);

  it('stops the embedded server with the stack', async () => {
    expect(processesMatching(join(work, 'data', 'postgres')).length).toBeGreaterThan(0);
    stack.kill('SIGINT');
    await waitFor('the stack to exit', 90_000, async () => (stack.exitCode !== null ? true : undefined));
    await waitFor('no embedded server left', 30_000, async () =>
      processesMatching(join(work, 'data', 'postgres')).length === 0 ? true : undefined,
    );
  });
});
