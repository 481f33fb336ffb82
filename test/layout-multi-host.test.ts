// The production layout of docker-compose.yml, without Docker: every service its own process, the
// orchestrator and the gateway on host addresses of their own (distinct loopback addresses 127.0.0.13 and
// .14; PostgreSQL is the machine's server, and the Temporal dev server stays on 127.0.0.1 because its
// internal schedule worker dials the frontend there), configured by environment as the compose file does. The
// orchestrator announces its own host's address (--advertise-host), two model-calls workers split the
// fan-out (MODEL_SHARDS=2), one worker serves each other queue. Predictions, scores and the leaderboard
// flow; a model-calls worker killed with SIGKILL while it holds a model-calls activity loses nothing.
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createLogger } from '../lib/log/index.js';
import { connectClient, type RunningDevServer, startDevServer, taskQueues } from '../lib/temporal/index.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { freePort } from './support/model-processes.js';
import { exampleSubmissions, repoRoot, temporalCli } from './support/tools.js';
import { waitFor } from './support/wait-for.js';

const hosts = { temporal: '127.0.0.1', orchestrator: '127.0.0.13', gateway: '127.0.0.14' };

/** Throws when a service that should keep running has exited: waiting for it would be waiting in vain. */
let servicesStillUp: () => void = () => {};

/** waitFor, failing at once when a service has exited. */
const waitForUp = <T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> =>
  waitFor(what, timeoutMs, probe, { stillUp: () => servicesStillUp() });

interface Service {
  name: string;
  child: ChildProcess;
  output: string;
}

describe('the production layout as separate processes on their own addresses', () => {
  let db: TestDatabase;
  let temporal: RunningDevServer;
  let client: Client;
  const services: Service[] = [];
  const work = mkdtempSync(join(tmpdir(), 'coordinator-layout-'));
  let environment: NodeJS.ProcessEnv;
  let gatewayUrl: string;

  /** One service of docker-compose.yml: `coordinator <args>` with the shared environment. */
  function service(name: string, args: string[]): Service {
    const child = spawn(process.execPath, [resolve(repoRoot, 'bin/coordinator.mjs'), ...args], {
      env: environment,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const entry: Service = { name, child, output: '' };
    const keep = (chunk: Buffer) => {
      entry.output = (entry.output + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    services.push(entry);
    return entry;
  }

  function diagnostics(): string {
    return services.map((s) => `--- ${s.name} (exit ${s.child.exitCode}):\n${s.output.slice(-3000)}`).join('\n');
  }

  const oneShots = new Set<string>();
  let victim: ChildProcess | undefined;
  servicesStillUp = () => {
    const down = services.find(
      (s) => !oneShots.has(s.name) && s.child !== victim && (s.child.exitCode !== null || s.child.signalCode !== null),
    );
    if (down)
      throw new Error(
        `the ${down.name} service exited (${down.child.exitCode ?? down.child.signalCode})\n${diagnostics()}`,
      );
  };

  async function oneShot(name: string, args: string[]): Promise<void> {
    oneShots.add(name);
    const run = service(name, args);
    await waitForUp(`${name} to finish`, 120_000, async () => (run.child.exitCode !== null ? true : undefined));
    if (run.child.exitCode !== 0) throw new Error(`${name} failed:\n${run.output}`);
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    temporal = await startDevServer({
      executable: temporalCli(),
      dataDir: join(work, 'temporal'),
      ip: hosts.temporal,
      port: await freePort(),
      uiPort: await freePort(),
      logger: createLogger('layout-test'),
    });
    client = await connectClient({ address: temporal.address, namespace: 'default' });
    const discoveryPort = await freePort();
    const gatewayPort = await freePort();
    gatewayUrl = `http://${hosts.gateway}:${gatewayPort}`;
    for (const name of ['benchmark', 'mixture']) {
      cpSync(resolve(exampleSubmissions, name), join(work, 'submissions', name), { recursive: true });
    }
    // The compose file's x-coordinator environment, with this test's addresses.
    environment = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: 'default',
      ORCHESTRATOR_URL: `ws://${hosts.orchestrator}:${discoveryPort}/condorgame`,
      GAME: 'condor-quick',
      MARKET_DATA: 'synthetic:7',
      PREDICT_TIMEOUT_SECONDS: '5',
      SCORE_EVERY_SECONDS: '10',
      MODEL_SHARDS: '2',
      LOG_LEVEL: 'info',
    };
    service('orchestrator', [
      'orchestrator',
      '--submissions',
      join(work, 'submissions'),
      '--state-dir',
      join(work, 'orchestrator'),
      '--host',
      hosts.orchestrator,
      '--port',
      String(discoveryPort),
      '--http-port',
      '0',
      '--advertise-host',
      hosts.orchestrator,
    ]);
    await oneShot('migrate', ['migrate']);
    for (const queue of [taskQueues.coordinator, taskQueues.postgres, taskQueues.scoring]) {
      service(`worker-${queue}`, ['worker', '--queue', queue]);
    }
    service('worker-model-calls-1', ['worker', '--queue', taskQueues.modelCalls]);
    service('worker-model-calls-2', ['worker', '--queue', taskQueues.modelCalls]);
    service('gateway', ['gateway', '--host', hosts.gateway, '--port', String(gatewayPort)]);
    await oneShot('schedules', ['schedules', 'ensure']);
  }, 300_000);

  afterAll(async () => {
    for (const entry of services) if (entry.child.exitCode === null) entry.child.kill('SIGTERM');
    await Promise.all(
      services.map(
        (entry) =>
          new Promise<void>((done) => {
            if (entry.child.exitCode !== null || entry.child.signalCode !== null) return done();
            const timer = setTimeout(() => entry.child.kill('SIGKILL'), 20_000);
            entry.child.once('exit', () => {
              clearTimeout(timer);
              done();
            });
          }),
      ),
    );
    await client?.connection.close();
    await temporal?.stop();
    await db?.drop();
    rmSync(work, { recursive: true, force: true });
  }, 120_000);

  it('announces the models at the orchestrator host, not 127.0.0.1, and the workers reach them there', async () => {
    const deployments = await waitForUp('both models announced and recorded', 300_000, async () => {
      const rows = await db.pool.any(sql.type(z.object({ model_id: z.string(), ip: z.string().nullable() }))`
        SELECT DISTINCT model_id, ip FROM deployments ORDER BY model_id
      `);
      return rows.length === 2 ? rows : undefined;
    }).catch((error: Error) => {
      throw new Error(`${error.message}\n${diagnostics()}`);
    });
    expect(deployments).toEqual([
      { model_id: 'benchmark', ip: hosts.orchestrator },
      { model_id: 'mixture', ip: hosts.orchestrator },
    ]);
    await waitForUp('SUCCESS predictions of both models', 300_000, async () => {
      const models = await db.pool.anyFirst(sql.type(z.object({ model_id: z.string() }))`
        SELECT DISTINCT model_id FROM predictions WHERE status = 'SUCCESS'
      `);
      return models.length === 2 ? true : undefined;
    }).catch((error: Error) => {
      throw new Error(`${error.message}\n${diagnostics()}`);
    });
  }, 600_000);

  it('loses nothing when a model-calls worker is killed while it holds a model call', async () => {
    const worker = services.find((s) => s.name === 'worker-model-calls-1')!;
    victim = worker.child;
    const identity = `${worker.child.pid}@`;
    // Wait until the victim is running a model-calls activity, then kill it on the spot.
    const killedAt = await waitForUp('the first model-calls worker to hold an activity', 300_000, async () => {
      for await (const run of client.workflow.list({ query: 'ExecutionStatus = "Running"' })) {
        const description = await client.workflow.getHandle(run.workflowId, run.runId).describe();
        const held = (description.raw.pendingActivities ?? []).some((activity) =>
          activity.lastWorkerIdentity?.startsWith(identity),
        );
        if (held) {
          worker.child.kill('SIGKILL');
          return Date.now() / 1000;
        }
      }
      return undefined;
    });

    // Every slot asked since the kill gets one row per model, stored once, by the surviving worker.
    const slots = z.object({ slot: z.number(), rows: z.number(), models: z.number() });
    const after = await waitForUp('three complete slots after the kill', 300_000, async () => {
      const rows = await db.pool.any(sql.type(slots)`
        SELECT extract(epoch FROM scheduled_at)::float8 AS slot, count(*)::int AS rows,
               count(DISTINCT model_id)::int AS models
        FROM predictions WHERE scheduled_at >= to_timestamp(${killedAt - 60})
        GROUP BY scheduled_at ORDER BY scheduled_at
      `);
      // Rows are stored as the answers come: only a slot past its call deadline is complete.
      const settled = rows.filter((row) => row.slot < Date.now() / 1000 - 30);
      return settled.filter((row) => row.slot > killedAt).length >= 3 ? settled : undefined;
    }).catch((error: Error) => {
      throw new Error(`${error.message}\n${diagnostics()}`);
    });
    // No slot is missing a model or holds one twice (the key forbids it; the count says so).
    for (const slot of after)
      expect(slot, `slot ${new Date(slot.slot * 1000).toISOString()}`).toMatchObject({
        rows: 2,
        models: 2,
      });
    // Slots of a whole game period in a row, none skipped around the kill: consecutive slots are at most one
    // slot length apart (condor-quick: every asset each 30 s, 4 assets -> 7.5 s).
    for (let i = 1; i < after.length; i++) expect(after[i]!.slot - after[i - 1]!.slot).toBeLessThanOrEqual(7.5);
  }, 600_000);

  it('scores and ranks the models on the gateway', async () => {
    const leaderboard = await waitForUp('a ranked leaderboard with both models', 480_000, async () => {
      const response = await fetch(`${gatewayUrl}/reports/leaderboard`);
      const rows = (await response.json()) as Array<{ model_id: string; rank: number; score_recent: number | null }>;
      return rows.length === 2 && rows.every((row) => row.score_recent !== null) ? rows : undefined;
    }).catch((error: Error) => {
      throw new Error(`${error.message}\n${diagnostics()}`);
    });
    expect(leaderboard.map((row) => row.rank)).toEqual([1, 2]);
  }, 600_000);
});
