// Strangers' code in the orchestrator's sandbox: one hostile submission per attack (test/fixtures/attacks)
// beside an honest model, called by a real predict round into a real database. Each attack must fail
// or be cut, its outcome stored as a FAILED/TIMEOUT row with a bounded reason, and the honest model
// (and this coordinator) must keep going.
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type PriceFeed, predictRound } from '../lib/cycle/index.js';
import { condor } from '../lib/game/index.js';
import { ModelRunnerClient } from '../lib/model-runner/index.js';
import { Orchestrator } from '../orchestrator/index.js';
import { sandboxUid } from '../orchestrator/sandbox.js';
import {
  copyExamples,
  type Workspace,
  waitForModel,
  workspaceOrchestratorOptions,
} from '../orchestrator/testing/harness.js';
import { portOpen, processesMatching } from '../orchestrator/testing/processes.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTemporalTestEnv } from './support/temporal.js';
import { exampleSubmissions, repoRoot } from './support/tools.js';

const ATTACKS = [
  'parent-environ',
  'local-ports',
  'database',
  'coordinator-files',
  'other-submission',
  'setsid-child',
  'fork-bomb',
  'memory-hog',
  'disk-filler',
  'huge-answer',
  'huge-error',
];
const MODELS = ['benchmark', ...ATTACKS];
const SECRET = `hunter2-${process.pid}`;
const SLEEP_MARK = String(900_000 + (process.pid % 99_999));
const MiB = 1024 ** 2;
const LIMITS = { memoryBytes: 2048 * MiB, scratchBytes: 64 * MiB, processes: 128 };
const everyoneFed: Pick<PriceFeed, 'isFed'> = { isFed: () => true };
const storedRow = z.object({ model_id: z.string(), status: z.string(), reason: z.string().nullable() });

/** Live processes whose real uid is `uid`. */
const processesOfUid = (uid: number): number[] =>
  readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        return readFileSync(`/proc/${entry}/status`, 'utf8').match(/^Uid:\s+(\d+)/m)?.[1] === String(uid);
      } catch {
        return false;
      }
    })
    .map(Number);

describe('sandboxed orchestrator against hostile submissions', () => {
  let workspace: Workspace;
  let temporal: TestWorkflowEnvironment;
  let db: TestDatabase;
  let orchestrator: Orchestrator;
  let client: ModelRunnerClient;
  let slot = Math.floor(Date.now() / 60_000) * 60 - 7_200;
  let ports: Record<string, number>;

  const round = async () => {
    slot += 60;
    const summary = await predictRound(
      { client, db: db.pool, game: condor, feed: everyoneFed as PriceFeed },
      { due: [{ asset: 'BTC', horizonSec: 300, stepSec: 60, slotSec: slot }], timeoutMs: 120_000 },
    );
    const rows = await db.pool.any(sql.type(storedRow)`
      SELECT model_id, status, reason FROM predictions WHERE scheduled_at = to_timestamp(${slot}) ORDER BY model_id
    `);
    return { summary, rows: new Map(rows.map((row) => [row.model_id, row])) };
  };

  beforeAll(async () => {
    process.env.COORDINATOR_TEST_SECRET = SECRET;
    [temporal, db] = await Promise.all([createTemporalTestEnv(), createTestDatabase()]);
    workspace = copyExamples(exampleSubmissions, ['benchmark']);
    for (const attack of ATTACKS) {
      cpSync(join(repoRoot, 'test', 'fixtures', 'attacks', attack), join(workspace.submissionsDir, attack), {
        recursive: true,
      });
    }
    const modelsFile = join(workspace.root, 'models.yml');
    writeFileSync(modelsFile, 'models:\n  - { id: benchmark, submission_id: benchmark }\n');
    orchestrator = new Orchestrator({
      ...workspaceOrchestratorOptions(workspace),
      modelsFile,
      limits: LIMITS,
      stopGraceMs: 1_000,
    });
    // One waitForModel listener per model.
    orchestrator.setMaxListeners(MODELS.length + 10);
    await orchestrator.start();
    ports = {
      postgres: 5432,
      temporal: Number(temporal.address.split(':').pop()),
      discovery: orchestrator.port,
      http: orchestrator.httpPort ?? 0,
    };
    // The targets, known only now: an attacker would scan for them; the test hands them over.
    const env: Record<string, Record<string, string>> = {
      'local-ports': { TARGET_PORTS: Object.values(ports).join(',') },
      'coordinator-files': {
        TARGET_FILES: [
          join(repoRoot, 'package.json'),
          join(workspace.stateDir, 'models', 'benchmark', 'runner.log'),
        ].join(':'),
        TARGET_DIRS: [repoRoot, workspace.stateDir, workspace.root].join(':'),
      },
      'other-submission': { OTHER_SUBMISSION: join(workspace.submissionsDir, 'benchmark') },
      'setsid-child': { SLEEP_MARK },
      // The model-runner would refuse to send more than 64 MiB itself: let it, so our client cuts it.
      'huge-answer': { GRPC_MAX_SEND_MESSAGE_LENGTH: String(200 * MiB) },
    };
    writeFileSync(
      modelsFile,
      [
        'models:',
        ...MODELS.map((id) => `  - { id: ${id}, submission_id: ${id}, env: ${JSON.stringify(env[id] ?? {})} }`),
        '',
      ].join('\n'),
    );
    orchestrator.rescan();
    await Promise.all(MODELS.map((id) => waitForModel(orchestrator, id, (s) => s.phase === 'running', 200_000)));
    client = new ModelRunnerClient({
      discoveryUrl: orchestrator.discoveryUrl(),
      className: condor.setupClassName,
      maxConsecutiveFailures: 0,
      maxConsecutiveTimeouts: 0,
      maxAnswerBytes: condor.maxAnswerBytes,
      reconnectDelayMs: 200,
    });
    await client.start();
    await client.waitForModels(MODELS.length, 60_000);
  }, 300_000);

  afterAll(async () => {
    delete process.env.COORDINATOR_TEST_SECRET;
    await client?.close();
    await orchestrator?.stop();
    await db?.drop();
    await temporal?.teardown();
    workspace?.remove();
  });

  it('cuts or blocks every attack, records each as FAILED/TIMEOUT with a bounded reason, and the honest model answers', async () => {
    // Every target is really there, as seen from outside the sandbox.
    for (const port of Object.values(ports)) expect(await portOpen(port)).toBe(true);
    const { rows } = await round();
    const reasonOf = (id: string): string => {
      const row = rows.get(id);
      expect(row, `no row for ${id}`).toBeDefined();
      return row?.reason ?? '';
    };
    // What each attack found, shown by a failing assertion.
    const found = [...rows].map(([id, row]) => `${id}: ${row.status} ${row.reason?.slice(0, 300)}`).join('\n');
    expect(rows.get('benchmark')?.status, found).toBe('SUCCESS');
    // It answers honestly; its child is the attack (next test).
    expect(rows.get('setsid-child')?.status).toBe('SUCCESS');
    for (const attack of ATTACKS.filter((id) => id !== 'setsid-child')) {
      const row = rows.get(attack);
      expect(['FAILED', 'TIMEOUT'], found).toContain(row?.status);
      expect(row?.reason?.length ?? 0, attack).toBeGreaterThan(0);
      expect(row?.reason?.length ?? 0, attack).toBeLessThanOrEqual(1_200);
      expect(row?.reason, attack).not.toMatch(/REACHED/);
    }
    expect(reasonOf('parent-environ')).toMatch(/BLOCKED environ of none holds COORDINATOR_TEST_SECRET/);
    expect(reasonOf('parent-environ')).not.toContain(SECRET);
    const portsReason = reasonOf('local-ports');
    expect(portsReason).toMatch(/BLOCKED/);
    for (const port of Object.values(ports)) expect(portsReason).toContain(`127.0.0.1:${port}:ConnectionRefusedError`);
    expect(reasonOf('database')).toMatch(
      /BLOCKED .*s\.PGSQL\.5432:(FileNotFoundError|PermissionError).*tcp:ConnectionRefusedError/,
    );
    const files = reasonOf('coordinator-files');
    expect(files).toMatch(/BLOCKED/);
    expect(files).toMatch(/package\.json:(FileNotFoundError|PermissionError)/);
    expect(files).toMatch(/passwd:FileNotFoundError/);
    expect(reasonOf('other-submission')).toMatch(
      /BLOCKED .*main.py:FileNotFoundError .*submissions\/ lists \['other-submission'\]/,
    );
    // The bomb stops at the process limit: either it says so, or the model-runner (whose gRPC threads
    // count too) dies of it. Either way its uid never holds more processes than the limit.
    const bomb = reasonOf('fork-bomb');
    const forked = bomb.match(/BLOCKED forked (\d+) processes/)?.[1];
    if (forked) expect(Number(forked)).toBeLessThanOrEqual(LIMITS.processes);
    expect(processesOfUid(sandboxUid(join(workspace.stateDir, 'models', 'fork-bomb'))).length).toBeLessThanOrEqual(
      LIMITS.processes,
    );
    const allocated = Number(reasonOf('memory-hog').match(/BLOCKED allocated (\d+) bytes, then MemoryError/)?.[1]);
    expect(allocated).toBeLessThan(LIMITS.memoryBytes);
    const disk = reasonOf('disk-filler');
    expect(disk).toMatch(/BLOCKED/);
    for (const place of ['home', 'tmp']) {
      const written = Number(disk.match(new RegExp(`${place}=(\\d+):OSError`))?.[1]);
      expect(written, place).toBeLessThanOrEqual(LIMITS.scratchBytes);
    }
    expect(disk).toMatch(/code=0:OSError env=0:OSError/);
    expect(reasonOf('huge-answer')).toMatch(/larger than the limit \(4194304 bytes\)/);
    expect(reasonOf('huge-error')).toMatch(/E{100}.*\[cut: \d{7} characters in all\]$/);

    // The coordinator goes on, and so does the honest model.
    const again = await round();
    expect(again.rows.get('benchmark')?.status).toBe('SUCCESS');
    expect(orchestrator.model('benchmark')?.phase).toBe('running');
  }, 300_000);

  it('lets no child outlive its model: a setsid child dies with the sandbox', async () => {
    const children = processesMatching(`sleep ${SLEEP_MARK}`);
    expect(children.length).toBeGreaterThan(0);
    await orchestrator.stop();
    await expect.poll(() => processesMatching(`sleep ${SLEEP_MARK}`), { timeout: 20_000 }).toEqual([]);
    await expect
      .poll(() => processesMatching(`--code-directory ${workspace.submissionsDir}`), { timeout: 20_000 })
      .toEqual([]);
  }, 60_000);
});
