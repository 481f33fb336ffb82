import { type CommonQueryMethods, sql } from 'slonik';

/** One prediction as the insert statement takes it: the body already serialised (null: no body). */
export interface PredictionRecord {
  model_id: string;
  deployment_id: string | null;
  asset: string;
  horizon: number;
  step: number;
  status: string;
  reason: string | null;
  exec_time_us: number | null;
  performed_at: number;
  scheduled_at: number | null;
  body: string | null;
}

/** The rows of one statement. */
export interface PredictionStatement {
  records: PredictionRecord[];
  bodyChars: number;
}

export interface StatementLimits {
  /** Start a new statement once this many characters of body JSON are in the current one. */
  statementChars: number;
  /** Rows per statement at most: each takes 12 parameters, and PostgreSQL takes 65,535. */
  maxRows: number;
}

/**
 * Splits records into statements as it serialises them, lazily: the caller sends statement k while
 * statement k + 1 is being serialised.
 */
export function* statementsOf(
  records: Iterable<PredictionRecord>,
  limits: StatementLimits,
): Generator<PredictionStatement> {
  let current: PredictionStatement = { records: [], bodyChars: 0 };
  for (const record of records) {
    current.records.push(record);
    current.bodyChars += record.body?.length ?? 0;
    if (current.bodyChars >= limits.statementChars || current.records.length >= limits.maxRows) {
      yield current;
      current = { records: [], bodyChars: 0 };
    }
  }
  if (current.records.length > 0) yield current;
}

/**
 * One multi-row INSERT ... VALUES of a statement's rows, every value a parameter: PostgreSQL takes each
 * body as the `json` text sent and only checks its syntax, where one big document (jsonb_to_recordset)
 * or an array literal would make it parse and unescape every body, and a set-returning function would
 * hold them all in a tuplestore (spilled to disk past work_mem). Rows already stored are skipped.
 */
export async function insertStatement(db: CommonQueryMethods, statement: PredictionStatement): Promise<number> {
  const rows = statement.records.map(
    (r) => sql.fragment`(${r.model_id}, ${r.deployment_id}, ${r.asset}, ${r.horizon}, ${r.step}, ${r.status},
      ${r.reason}, ${r.exec_time_us}, ${r.body}, to_timestamp(${r.performed_at}),
      to_timestamp(${r.performed_at + r.horizon}), to_timestamp(${r.scheduled_at}))`,
  );
  const result = await db.query(sql.unsafe`
    INSERT INTO predictions (model_id, deployment_id, asset, horizon, step, status, reason, exec_time_us,
                             distributions, performed_at, resolvable_at, scheduled_at)
    VALUES ${sql.join(rows, sql.fragment`, `)}
    ON CONFLICT DO NOTHING
  `);
  return result.rowCount;
}

const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs the statements one after the other on `db`, serialising the next one while the database works
 * on the current one (the two overlap on two cores). Returns the rows inserted.
 */
export async function runStatements(
  db: CommonQueryMethods,
  statements: Iterator<PredictionStatement>,
  first: PredictionStatement,
): Promise<number> {
  let stored = 0;
  let pending = insertStatement(db, first);
  // Awaited below; this only keeps a failure from counting as unhandled while the next one is built.
  pending.catch(() => undefined);
  for (;;) {
    // Lets the driver hand the statement to the socket before serialising takes the thread.
    await yieldToIo();
    const next = statements.next();
    stored += await pending;
    if (next.done) return stored;
    pending = insertStatement(db, next.value);
    pending.catch(() => undefined);
  }
}
