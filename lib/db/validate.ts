import { z } from 'zod';

/** Unix seconds; fractions allowed (stored with microsecond precision). */
export const unixSeconds = z.number().finite();
export const nonEmpty = z.string().min(1);

/**
 * Checks a batch against a row schema and names the first bad row, so a caller's mistake reads as
 * "insertPredictions row 3: status: ..." rather than a database error about a whole statement.
 */
export function parseRows<T extends z.ZodTypeAny>(what: string, schema: T, rows: readonly unknown[]): z.infer<T>[] {
  if (!Array.isArray(rows)) throw new TypeError(`${what} expects an array of rows`);
  return rows.map((row, index) => {
    const parsed = schema.safeParse(row);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
      throw new TypeError(`${what} row ${index}: ${where}${issue?.message ?? 'invalid'}`);
    }
    return parsed.data;
  });
}

/** The last row wins for each key: one statement may not update the same row twice. */
export function lastPerKey<T>(rows: readonly T[], key: (row: T) => string): T[] {
  return [...new Map(rows.map((row) => [key(row), row])).values()];
}

/** A unix-seconds argument, checked: a NaN or a Date here would otherwise surface as a database error. */
export function seconds(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`${what} must be a time in unix seconds (a finite number), got ${String(value)}`);
  }
  return value;
}
