// Paying models end to end: a seeded game runs score passes (each appends a Merkle cycle) and the
// checkpoint workflow on a real Temporal dev server and PostgreSQL; the report gateway then serves the
// checkpoint, and every snapshot's proof is checked by an independent verifier in Python that follows
// CrunchDAO's hashing rules with Python's own json module and hashlib; confirm and status move as the
// platform moves them, with the API key tiers in front.
import { execFile, execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway, type Gateway } from '../gateway/app.js';
import { tierShares } from '../lib/emission/index.js';
import { condor } from '../lib/game/index.js';
import { SyntheticSource } from '../lib/market-data/index.js';
import { taskQueues } from '../lib/temporal/index.js';
import type { EmissionCheckpointResult, ScorePassResult } from '../workflows/index.js';
import { norm, type PlannedPrediction, seedPlannedGame, sourcePrices, storePrices } from './leaderboard-support.js';
import type { TestDatabase } from './support/database.js';
import { recordHistory } from './support/histories.js';
import { type ScoringStack, startScoringStack } from './support/scoring-stack.js';
import { repoRoot, toolsPython } from './support/tools.js';

// A whole minute an hour ago (retention, measured from the real clock, keeps everything).
const T0 = Math.floor(Date.now() / 60_000) * 60 - 3600;
const PASSES = [T0 - 2400, T0 - 1800, T0 - 1200, T0 - 600, T0];
const PERIOD_END = T0 + 60;
const source = new SyntheticSource({ seed: 5 });
const models = ['narrow', 'medium', 'wide', 'broken'];
const KEY = 'test-key-9f8e7d';

function plannedPredictions(): PlannedPrediction[] {
  const planned: PlannedPrediction[] = [];
  for (let t = T0 - 3 * 3600; t <= T0; t += 240) {
    for (const asset of ['BTC', 'ETH']) {
      for (const [modelId, scale] of [
        ['narrow', 0.0007],
        ['medium', 0.003],
        ['wide', 0.01],
      ] as const) {
        planned.push({ modelId, asset, performedAt: t, status: 'SUCCESS', distributions: Array(5).fill(norm(scale)) });
      }
      planned.push({ modelId: 'broken', asset, performedAt: t, status: 'FAILED', distributions: null });
    }
  }
  return planned;
}

// The independent verifier: §2 of CrunchDAO's rules, in Python, with nothing of ours. Reads
// {snapshots, proofs, cycles, checkpoints} and prints one line per snapshot: "<id> ok" or why not.
const VERIFIER = `
import hashlib, json, sys
H = lambda s: hashlib.sha256(s.encode("utf-8")).hexdigest()
data = json.load(sys.stdin)
cycles = {c["id"]: c for c in data["cycles"]}
checkpoints = {c["id"]: c for c in data["checkpoints"]}
for snap in data["snapshots"]:
    proof = data["proofs"][snap["id"]]
    leaf = H(json.dumps({k: snap[k] for k in ("model_id", "period_start", "period_end", "prediction_count", "result_summary")},
                        sort_keys=True, separators=(",", ":")))
    problems = []
    if leaf != proof["snapshot_content_hash"]: problems.append("leaf hash")
    cur = leaf
    for step in proof["path"]:
        cur = H(cur + step["hash"]) if step["position"] == "right" else H(step["hash"] + cur)
    cycle = cycles[proof["cycle_id"]]
    if cur != cycle["snapshots_root"]: problems.append("snapshots root")
    prev = cycle["previous_cycle_root"]
    chained = H(prev + cur) if prev else cur
    if chained != cycle["chained_root"] or chained != proof["cycle_root"]: problems.append("chained root")
    for step in proof["checkpoint_path"]:
        chained = H(chained + step["hash"]) if step["position"] == "right" else H(step["hash"] + chained)
    checkpoint = checkpoints.get(proof["checkpoint_id"])
    if checkpoint is None or chained != checkpoint["merkle_root"]: problems.append("checkpoint root")
    print(snap["id"], "ok" if not problems else "FAILED " + ",".join(problems))
`;

describe('emission checkpoints', () => {
  let stack: ScoringStack;
  let env: TestWorkflowEnvironment;
  let db: TestDatabase;
  let gateway: Gateway;
  const logLines: string[] = [];

  beforeAll(async () => {
    stack = await startScoringStack({
      source,
      seed: async (fresh) => {
        for (const [asset, prices] of await sourcePrices(source, ['BTC', 'ETH'], T0 - 4 * 3600, T0 + 600)) {
          await storePrices(fresh.pool, asset, prices.points);
        }
        await seedPlannedGame(fresh.pool, { models, planned: plannedPredictions(), at: T0 });
      },
    });
    ({ env, db } = stack);
    const capture = new Writable({
      write(chunk, _encoding, done) {
        logLines.push(String(chunk));
        done();
      },
    });
    gateway = await buildGateway({
      db: db.pool,
      rateLimit: false,
      apiKeys: { key: KEY },
      node: { crunchId: 'condorgame', crunchAddress: 'Crunch1111', network: 'devnet', windows: condor.windows },
      logger: pino({ level: 'trace' }, capture),
    });
  }, 180_000);

  afterAll(async () => {
    await gateway?.close();
    await stack?.stop();
  });

  const admin = { 'x-api-key': KEY };
  const get = async (url: string, headers: Record<string, string> = admin) => {
    const response = await gateway.inject({ method: 'GET', url, headers });
    return { status: response.statusCode, body: response.json() as unknown };
  };
  const dump = () =>
    db.pool.one(sql.unsafe`
      SELECT (SELECT json_agg(c ORDER BY id) FROM checkpoints c) AS checkpoints,
             (SELECT json_agg(e ORDER BY checkpoint_id, rank) FROM checkpoint_entries e) AS entries,
             (SELECT json_agg(m ORDER BY id) FROM merkle_cycles m) AS cycles,
             (SELECT count(*) FROM merkle_snapshots) AS snapshots
    `);
  const runCheckpoint = async () => {
    const handle = await env.client.workflow.start('emissionCheckpoint', {
      taskQueue: taskQueues.coordinator,
      workflowId: `checkpoint-${new Date(PERIOD_END * 1000).toISOString()}`,
      args: [{ periodEnd: new Date(PERIOD_END * 1000).toISOString(), everySeconds: 3 * 3600, crunch: 'Crunch1111' }],
    });
    return (await handle.result()) as EmissionCheckpointResult;
  };

  let checkpointId = '';

  it('score passes append a chained Merkle cycle each; the checkpoint workflow pays the ranking by the tiers', async () => {
    for (const asOf of PASSES) {
      const handle = await env.client.workflow.start('scorePass', {
        taskQueue: taskQueues.coordinator,
        // The last pass's id is the name its recorded history replays under (test/replay.test.ts).
        workflowId: asOf === T0 ? 'score-pass-merkle' : `score-pass-${asOf}`,
        args: [{ asOf: new Date(asOf * 1000).toISOString() }],
      });
      const result = (await handle.result()) as ScorePassResult;
      expect(result.merkleCycle).toMatchObject({ outcome: 'appended', snapshots: 4 });
    }
    recordHistory(env.address, 'score-pass-merkle', 'score-pass-merkle');
    const result = await runCheckpoint();
    expect(result.outcome).toBe('created');
    recordHistory(env.address, `checkpoint-${new Date(PERIOD_END * 1000).toISOString()}`, 'emission-checkpoint');
    expect(result.checkpoint).toMatchObject({ models: 4, cycles: 5, snapshots: 20, leaderboardAsOf: T0 });
    checkpointId = result.checkpoint!.id;

    const { status, body } = await get(`/reports/checkpoints/${checkpointId}`);
    expect(status).toBe(200);
    const checkpoint = body as {
      status: string;
      entries: Array<{ crunch: string; cruncher_rewards: Array<{ cruncher_index: number; reward_pct: number }> }>;
      meta: { model_count: number; ranking: Array<{ model_id: string; rank: number; snapshot_count: number }> };
    };
    expect(checkpoint.status).toBe('PENDING');
    expect(checkpoint.meta.model_count).toBe(4);
    expect(checkpoint.meta.ranking.map((entry) => entry.model_id)).toEqual(['narrow', 'medium', 'wide', 'broken']);
    expect(checkpoint.meta.ranking.every((entry) => entry.snapshot_count === 5)).toBe(true);
    expect(checkpoint.entries[0]!.crunch).toBe('Crunch1111');
    expect(checkpoint.entries[0]!.cruncher_rewards.map((reward) => reward.reward_pct)).toEqual(
      tierShares([1, 2, 3, 4]),
    );
  });

  it('running the checkpoint workflow again for the period changes nothing', async () => {
    const before = await dump();
    const again = await runCheckpoint();
    expect(again.outcome).toBe('existing');
    expect(again.checkpoint?.id).toBe(checkpointId);
    expect(await dump()).toEqual(before);
  });

  it("every snapshot's proof verifies up to the checkpoint root, checked by an independent Python verifier", async () => {
    // The snapshots' JSON as sent: Python must read the floats as written (1.0 stays a float).
    const rawSnapshots = (await gateway.inject({ method: 'GET', url: '/reports/snapshots?limit=1000', headers: admin }))
      .body;
    const snapshots = JSON.parse(rawSnapshots) as Array<{ id: string }>;
    expect(snapshots).toHaveLength(20);
    const proofs: Record<string, unknown> = {};
    for (const snapshot of snapshots) {
      const proof = await get(`/reports/merkle/proof?snapshot_id=${encodeURIComponent(snapshot.id)}`);
      expect(proof.status).toBe(200);
      proofs[snapshot.id] = proof.body;
    }
    const cycles = (await get('/reports/merkle/cycles?limit=500')).body as Array<{ id: string }>;
    expect(cycles).toHaveLength(5);
    for (const cycle of cycles) expect((await get(`/reports/merkle/cycles/${cycle.id}`)).body).toEqual(cycle);
    const checkpoints = (await get('/reports/checkpoints')).body;
    const verify = (snapshotsText: string) =>
      execFileSync(toolsPython(), ['-c', VERIFIER], {
        input: `{"snapshots": ${snapshotsText}, "proofs": ${JSON.stringify(proofs)}, "cycles": ${JSON.stringify(cycles)}, "checkpoints": ${JSON.stringify(checkpoints)}}`,
        encoding: 'utf8',
      })
        .trim()
        .split('\n');
    const lines = verify(rawSnapshots);
    expect(lines).toHaveLength(20);
    expect(lines.filter((line) => !line.endsWith(' ok'))).toEqual([]);

    // The verifier can fail: a snapshot changed by one prediction no longer matches its proof.
    const target = snapshots[7]!.id;
    const at = rawSnapshots.indexOf(`"${target}"`);
    const tampered =
      rawSnapshots.slice(0, at) +
      rawSnapshots
        .slice(at)
        .replace(/"prediction_count" ?: ?(\d+)/, (_match, n: string) => `"prediction_count" : ${Number(n) + 1}`);
    expect(verify(tampered).filter((line) => !line.endsWith(' ok'))).toEqual([
      `${target} FAILED leaf hash,snapshots root,chained root,checkpoint root`,
    ]);
  });

  it('serves the views of a checkpoint the platform reads', async () => {
    const payload = (await get(`/reports/checkpoints/${checkpointId}/payload`)).body as { period_end: string };
    expect(payload.period_end).toBe(new Date(PERIOD_END * 1000).toISOString().replace('.000Z', '+00:00'));
    const cli = (await get(`/reports/checkpoints/${checkpointId}/emission/cli-format`)).body;
    expect(cli).toEqual({
      crunch: 'Crunch1111',
      crunchEmission: { narrow: 43.75, medium: 18.75, wide: 18.75, broken: 18.75 },
      computeProvider: {},
      dataProvider: {},
    });
    const prizes = (await get(`/reports/checkpoints/${checkpointId}/prizes?total_prize=1000001`)).body;
    expect(prizes).toEqual(
      ['narrow', 'medium', 'wide', 'broken'].map((model, i) => ({
        prizeId: `${checkpointId}-${model}`,
        timestamp: PERIOD_END,
        model,
        prize: i === 0 ? 437500 : 187500,
      })),
    );
    expect((await get('/reports/emissions/latest')).body).toMatchObject({
      checkpoint_id: checkpointId,
      status: 'PENDING',
    });
    const rewards = (await get('/reports/checkpoints/rewards?model_id=narrow', {})).body;
    expect(rewards).toEqual([expect.objectContaining({ checkpoint_id: checkpointId, rank: 1, reward_pct: 43.75 })]);
    expect((await get('/info', {})).body).toEqual({
      crunch_id: 'condorgame',
      crunch_address: 'Crunch1111',
      network: 'devnet',
    });
    const schema = (await get('/reports/schema', {})).body as { leaderboard_columns: Array<{ property: string }> };
    expect(schema.leaderboard_columns.map((column) => column.property)).toEqual([
      'model_id',
      'score_anchor',
      'score_steady',
      'score_recent',
    ]);
    expect((await get('/reports/checkpoints/CKP_nope/emission')).status).toBe(404);
  });

  it('asks for the key on admin routes only, in any of the three ways, and never logs it', async () => {
    const url = `/reports/checkpoints/${checkpointId}`;
    expect(await get(url, {})).toEqual({
      status: 401,
      body: { statusCode: 401, error: 'Unauthorized', message: 'API key required', detail: 'API key required' },
    });
    expect((await get(url, { 'x-api-key': 'wrong' })).status).toBe(401);
    expect((await get(url, { authorization: `Bearer ${KEY}` })).status).toBe(200);
    expect((await get(`${url}?api_key=${KEY}`, {})).status).toBe(200);
    // A percent-encoded path reaches the same route and meets the same tier.
    expect((await get(`/reports/%63heckpoints/${checkpointId}`, {})).status).toBe(401);
    // Read routes stay open unless asked.
    expect((await get('/reports/checkpoints', {})).status).toBe(200);
    expect((await get('/reports/snapshots', {})).status).toBe(200);
    // A refused request carrying the key in its URL: logged (trace level here) without it.
    expect((await get(`/reports/merkle/cycles?since=never&api_key=${KEY}`, {})).status).toBe(400);
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join('')).not.toContain(KEY);

    const strict = await buildGateway({ db: db.pool, rateLimit: false, apiKeys: { key: KEY, readAuth: true } });
    try {
      expect((await strict.inject({ method: 'GET', url: '/reports/snapshots' })).statusCode).toBe(401);
      expect((await strict.inject({ method: 'GET', url: '/reports/snapshots', headers: admin })).statusCode).toBe(200);
      expect((await strict.inject({ method: 'GET', url: '/reports/leaderboard' })).statusCode).toBe(200);
    } finally {
      await strict.close();
    }
  });

  it('moves through confirm (idempotent) and the allowed status changes, with 401/404/409/422 where due', async () => {
    const call = async (
      method: 'POST' | 'PATCH',
      url: string,
      payload: unknown,
      headers: Record<string, string> = admin,
    ) => {
      const response = await gateway.inject({ method, url, payload: payload as object, headers });
      return {
        status: response.statusCode,
        body: response.json() as { status?: string; tx_hash?: string; submitted_at?: string; detail?: string },
      };
    };
    const confirm = `/reports/checkpoints/${checkpointId}/confirm`;
    const status = `/reports/checkpoints/${checkpointId}/status`;
    expect((await call('POST', confirm, { tx_hash: 'sig1' }, {})).status).toBe(401);
    expect((await call('PATCH', status, { status: 'SUBMITTED' }, {})).status).toBe(401);
    expect((await call('POST', '/reports/checkpoints/CKP_nope/confirm', { tx_hash: 'sig1' })).body).toMatchObject({
      detail: 'Checkpoint not found',
    });
    expect((await call('POST', confirm, { tx_hash: '' })).status).toBe(422);
    expect((await call('POST', confirm, {})).status).toBe(422);
    expect((await call('POST', confirm, { tx_hash: 42 })).status).toBe(422);
    expect((await call('POST', confirm, ['sig1'])).status).toBe(422);
    expect((await call('PATCH', status, { status: 1 })).status).toBe(422);
    expect((await call('PATCH', status, { status: 'CLAIMABLE' })).status).toBe(409);

    const first = await call('POST', confirm, { tx_hash: 'sig1' });
    expect(first).toMatchObject({ status: 200, body: { status: 'SUBMITTED', tx_hash: 'sig1' } });
    expect(first.body.submitted_at).toEqual(expect.any(String));
    const again = await call('POST', confirm, { tx_hash: 'sig1' });
    expect(again).toEqual(first);
    expect((await call('POST', confirm, { tx_hash: 'sig2' })).status).toBe(409);

    expect((await call('PATCH', status, { status: 'BOGUS' })).status).toBe(422);
    expect((await call('PATCH', status, { status: 'SUBMITTED' })).status).toBe(409);
    expect((await call('PATCH', '/reports/checkpoints/CKP_nope/status', { status: 'CLAIMABLE' })).status).toBe(404);
    expect((await call('PATCH', status, { status: 'CLAIMABLE' })).body.status).toBe('CLAIMABLE');
    expect((await call('PATCH', status, { status: 'PAID' })).body.status).toBe('PAID');
    expect((await call('PATCH', status, { status: 'PENDING' })).status).toBe(409);
    expect((await get('/reports/checkpoints?status=PAID', {})).body).toEqual([
      expect.objectContaining({ id: checkpointId, tx_hash: 'sig1' }),
    ]);
  });

  it('lists, shows and makes checkpoints from the command line, with the Web UI link of each run', async () => {
    const coordinator = async (...args: string[]) => {
      try {
        const { stdout } = await promisify(execFile)(
          process.execPath,
          [resolve(repoRoot, 'bin/coordinator.mjs'), 'checkpoints', ...args],
          {
            env: {
              ...process.env,
              DATABASE_URL: db.url,
              TEMPORAL_ADDRESS: env.address,
              TEMPORAL_UI_PORT: '8233',
              LOG_LEVEL: 'silent',
            },
          },
        );
        return { code: 0, stdout };
      } catch (error) {
        const failed = error as { code: number; stdout: string; stderr: string };
        return { code: failed.code, stdout: failed.stdout + failed.stderr };
      }
    };
    const runId = `checkpoint-${new Date(PERIOD_END * 1000).toISOString().replace('.000Z', 'Z')}`;
    const list = await coordinator('list');
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(`${checkpointId}  PAID`);
    expect(list.stdout).toContain('4 models, 5 Merkle cycles');
    expect(list.stdout).toContain(`http://127.0.0.1:8233/namespaces/default/workflows/${encodeURIComponent(runId)}`);
    const show = await coordinator('show', checkpointId);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('"tx_hash": "sig1"');
    expect(show.stdout).toContain(encodeURIComponent(runId));
    expect((await coordinator('show', 'CKP_nope')).code).toBe(2);
    // No leaderboard since the last checkpoint's end: the run says so and writes nothing.
    const before = await dump();
    const now = await coordinator('create-now');
    expect(now.stdout).toMatch(/workflow checkpoint-\d{4}-.*Z\n/);
    expect(now.stdout).toContain('no checkpoint: no leaderboard was published since the last one');
    expect(await dump()).toEqual(before);
  }, 60_000);
});
