// predictRound against a real PostgreSQL with hostile answers: text that is valid JSON and passes the
// game's checks, yet could make the round's one bulk insert fail (and so fail again on every retry,
// losing the whole round). The models are a stand-in client, so no process or Temporal is needed.
import { sql } from 'slonik';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MAX_ANSWER_DEPTH } from '../lib/cycle/answers.js';
import { type PriceFeed, predictRound } from '../lib/cycle/index.js';
import { condor } from '../lib/game/index.js';
import {
  type CallArguments,
  type CallOptions,
  type CallResult,
  type ModelInfo,
  type ModelRunnerClient,
  pythonJsonDumps,
  VariantType,
} from '../lib/model-runner/index.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

const info = (modelId: string): ModelInfo => ({
  modelId,
  deploymentId: `${modelId}_1`,
  name: modelId,
  cruncherId: 'c',
  cruncherName: 'c',
  ip: '::1',
  port: 1,
});

const normal = (extra: Record<string, unknown> = {}) => ({
  type: 'builtin',
  name: 'norm',
  params: { loc: 0, scale: 0.001 },
  ...extra,
});
/** horizon 300 / step 60: five densities. */
const answer = (first: Record<string, unknown> = normal()) => [first, normal(), normal(), normal(), normal()];

/** JSON text nesting `depth` levels of `open ... close` around 0, without building the value. */
const nested = (depth: number, open = '[', close = ']') => `${open.repeat(depth)}0${close.repeat(depth)}`;
/** A valid Condor answer whose first density carries an extra key holding `inner` (JSON text). */
const withExtra = (inner: string) => {
  const text = JSON.stringify(answer(normal({ extra: '@@' })));
  return text.replace('"@@"', inner);
};

/**
 * Stands in for the model-runner client: every model is connected and answers with its fixed text,
 * as a JSON variant left undecoded (predictRound asks with `decode: false`).
 */
function fakeClient(answers: Record<string, string>): ModelRunnerClient {
  const models = Object.keys(answers).map(info);
  const client: Pick<ModelRunnerClient, 'models' | 'expectedModels' | 'call'> = {
    models: () => models,
    expectedModels: () => models,
    // Answers stay undecoded, so `value` is null whatever the caller expects.
    call: async <T>(_method: string, _args: CallArguments, options: CallOptions) =>
      models
        .filter((model) => options.models?.includes(model.modelId) ?? true)
        .map(
          (model): CallResult<T> => ({
            model,
            status: 'SUCCESS',
            value: null,
            execTimeUs: 10,
            raw: { type: VariantType.JSON, value: Buffer.from(answers[model.modelId]!, 'utf8') },
          }),
        ),
  };
  return client as ModelRunnerClient;
}

const everyoneFed: Pick<PriceFeed, 'isFed'> = { isFed: () => true };

const storedRow = z.object({
  model_id: z.string(),
  status: z.string(),
  reason: z.string().nullable(),
  body: z.string().nullable(),
});

describe('predictRound with answers PostgreSQL could refuse', () => {
  let db: TestDatabase;
  let slot = Math.floor(Date.now() / 60_000) * 60 - 3_600;

  beforeAll(async () => {
    db = await createTestDatabase();
  }, 60_000);
  afterAll(async () => {
    await db?.drop();
  });

  const round = (answers: Record<string, string>, shape?: string) => {
    slot += 60;
    return predictRound(
      { client: fakeClient(answers), db: db.pool, game: condor, feed: everyoneFed as PriceFeed },
      { due: [{ asset: 'BTC', horizonSec: 300, stepSec: 60, slotSec: slot }], timeoutMs: 1_000, shape },
    );
  };
  const rowsOf = async (scheduledSec: number) =>
    db.pool.any(sql.type(storedRow)`
      SELECT model_id, status, reason, distributions::text AS body
      FROM predictions WHERE scheduled_at = to_timestamp(${scheduledSec}) ORDER BY model_id
    `);

  it('fails an answer nested too deep and stores its neighbours, also when the round runs again', async () => {
    const good = JSON.stringify(answer());
    const answers = {
      a_good: good,
      // Far past PostgreSQL's json parser (about 13,000 levels of objects at max_stack_depth 2MB).
      b_deep_objects: withExtra(nested(20_000, '{"a":', '}')),
      // Python's NaN sends it to the tolerant parser, whose own limit (1,000) must not be what answers.
      c_deep_python: withExtra(`[NaN, ${nested(5_000)}]`),
      d_just_too_deep: withExtra(nested(MAX_ANSWER_DEPTH - 1)),
      z_good: good,
    };
    const summary = await round(answers);
    expect(summary.byStatus).toEqual({ SUCCESS: 2, FAILED: 3, TIMEOUT: 0, ABSENT: 0 });
    expect(summary.stored).toBe(5);
    const rows = await rowsOf(slot);
    expect(rows.map((row) => [row.model_id, row.status])).toEqual([
      ['a_good', 'SUCCESS'],
      ['b_deep_objects', 'FAILED'],
      ['c_deep_python', 'FAILED'],
      ['d_just_too_deep', 'FAILED'],
      ['z_good', 'SUCCESS'],
    ]);
    for (const row of rows.filter((r) => r.status === 'FAILED')) {
      expect(row.reason).toBe(`the model's JSON answer nests deeper than ${MAX_ANSWER_DEPTH} levels`);
      expect(row.body).toBeNull();
    }
    expect(rows[0]!.body).toBe(good);

    // The same slot again, as a retried activity: nothing is stored twice.
    slot -= 60;
    const again = await round(answers);
    expect(again.stored).toBe(0);
    expect(await rowsOf(slot)).toEqual(rows);
  });

  it('fails a predict_all answer whose picked step nests too deep for JSON.stringify to write back', async () => {
    // predict_all stores the picked step's value, serialised again: JSON.stringify throws a few
    // thousand levels down, well before PostgreSQL would.
    const deep = `{"60": ${withExtra(nested(5_000))}}`;
    const summary = await round({ deep, z_good: `{"60": ${JSON.stringify(answer())}}` }, 'predict_all');
    expect(summary.byStatus).toEqual({ SUCCESS: 1, FAILED: 1, TIMEOUT: 0, ABSENT: 0 });
    expect((await rowsOf(slot)).map((row) => [row.model_id, row.status, row.reason])).toEqual([
      ['deep', 'FAILED', `the model's JSON answer nests deeper than ${MAX_ANSWER_DEPTH} levels`],
      ['z_good', 'SUCCESS', null],
    ]);
  });

  it('stores an answer at the depth limit as the model wrote it', async () => {
    // The density object and the list around it are two of the levels.
    const text = withExtra(nested(MAX_ANSWER_DEPTH - 2));
    await round({ m: text });
    const [row] = await rowsOf(slot);
    expect(row).toMatchObject({ status: 'SUCCESS', reason: null, body: text });
  });

  it('stores escaped U+0000, lone surrogates and out-of-range numbers as the re-serialised value, never the raw text', async () => {
    // jsonb would refuse all three ("unsupported Unicode escape sequence", "invalid input syntax",
    // "value overflows numeric format"); the json column only checks the syntax.
    const escapes = withExtra('["nul \\u0000, lone \\ud800 and \\udc00, pair \\ud83d\\ude00", 1e999999]');
    // The tolerant parser's value is written back by JSON.stringify, which escapes them the same way.
    const python = pythonJsonDumps(answer(normal({ extra: 'nul \u0000 lone \ud800', nan: Number.NaN })));
    await round({ escapes, python, z_good: JSON.stringify(answer()) });
    const rows = await rowsOf(slot);
    expect(rows.map((row) => [row.model_id, row.status])).toEqual([
      ['escapes', 'SUCCESS'],
      ['python', 'SUCCESS'],
      ['z_good', 'SUCCESS'],
    ]);
    // The validated value written again: the same escapes, and an out-of-range number as null.
    expect(rows[0]!.body).toBe(JSON.stringify(JSON.parse(escapes)));
    expect(rows[0]!.body).not.toContain('1e999999');
    expect(rows[1]!.body).toContain('"extra":"nul \\u0000 lone \\ud800"');
  });
});
