import { sql } from 'slonik';

/**
 * An instant as the gateway passes it to PostgreSQL: canonical ISO-8601 UTC with microseconds, so a
 * bound given to the microsecond (as stored) is not rounded to JavaScript's milliseconds.
 */
export interface Instant {
  /** e.g. `2025-06-15T12:00:00.123456Z` */
  iso: string;
  /** Milliseconds since the epoch (fractions below a millisecond dropped), for arithmetic and ordering. */
  ms: number;
  /** The microseconds below `ms` (0..999). */
  micros: number;
}

/**
 * The instants a query bound stands for are kept within these (PostgreSQL and the ISO format both
 * handle them without surprises): unix seconds past the end, or a written time whose offset moves it
 * across an end, mean that end.
 */
const EARLIEST_MS = Date.UTC(1970, 0, 1);
const LATEST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const LATEST_MICROS = 999;

const UNIX_SECONDS = /^[0-9]{1,12}(\.[0-9]{1,6})?$/;
// Date, optional time (T or one space), optional fraction and offset (Z, ±HH:MM, ±HHMM, ±HH).
const ISO =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]{1,9}))?)?(Z|z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?$/;

// The same language as one regular expression, for the OpenAPI document: every value it matches is
// accepted and every other is refused (times.test.ts holds the two to each other). Written years are
// 1970 to 9999 and dates must exist (February 29 in leap years only).
const YEAR = '(?:19[7-9][0-9]|[2-9][0-9]{3})';
const LEAP_YEAR =
  '(?:19(?:7[26]|8[048]|9[26])|[2-9][0-9](?:0[48]|[2468][048]|[13579][26])|(?:[2468][048]|[3579][26])00)';
const MONTH_DAY =
  '(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))';
const TIME_OF_DAY =
  '(?:[T ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:[.,][0-9]{1,9})?)?(?:[Zz]|[+-](?:[01][0-9]|2[0-3])(?::?[0-5][0-9])?)?)?';
/** A `start`/`end` value: empty (the default), unix seconds, or an ISO-8601 date with an optional time. */
export const TIME_PARAMETER_PATTERN = `^(?:[0-9]{1,12}(?:\\.[0-9]{1,6})?|(?:${YEAR}-${MONTH_DAY}|${LEAP_YEAR}-02-29)${TIME_OF_DAY})?$`;

export class TimeParameterError extends Error {}

function instant(ms: number, micros: number): Instant {
  if (ms < EARLIEST_MS) [ms, micros] = [EARLIEST_MS, 0];
  if (ms > LATEST_MS) [ms, micros] = [LATEST_MS, LATEST_MICROS];
  const iso = new Date(ms).toISOString().replace('Z', `${String(micros).padStart(3, '0')}Z`);
  return { iso, ms, micros };
}

/**
 * Reads a `start`/`end` query value: ISO-8601 (`2025-06-15T12:00:00.123Z`, `2025-06-15T14:00:00+02:00`,
 * `2025-06-15`; no offset means UTC) or unix seconds (`1750000000`, `1750000000.5`), exactly as written
 * (no spaces around). Throws a TimeParameterError with a message meant for the caller.
 */
export function parseTimeParameter(raw: string, name: string): Instant {
  const text = raw;
  if (UNIX_SECONDS.test(text)) {
    const [whole, fraction = ''] = text.split('.');
    const micros = Number(fraction.padEnd(6, '0'));
    return instant(Number(whole) * 1000 + Math.floor(micros / 1000), micros % 1000);
  }
  const match = ISO.exec(text);
  if (!match) {
    throw new TimeParameterError(
      `${name}=${raw} is not a time: use ISO-8601 (2025-06-15T12:00:00Z, with an offset or UTC) or unix seconds`,
    );
  }
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = '', offset = 'Z'] = match;
  const parts = [Number(year), Number(month), Number(day), Number(hour), Number(minute), Number(second)] as const;
  const [y, mo, d, h, mi, s] = parts;
  // Date.UTC reads years below 100 as 19xx; those are out of range anyway.
  if (y < 1970) throw new TimeParameterError(`${name}=${raw} is outside the years 1970 to 9999`);
  const midnight = Date.UTC(y, mo - 1, d);
  const checked = new Date(midnight);
  if (
    mo < 1 ||
    mo > 12 ||
    checked.getUTCMonth() !== mo - 1 ||
    checked.getUTCDate() !== d ||
    h > 23 ||
    mi > 59 ||
    s > 59
  ) {
    throw new TimeParameterError(`${name}=${raw} is not a valid date and time`);
  }
  let offsetMinutes = 0;
  if (offset !== 'Z' && offset !== 'z') {
    const sign = offset.startsWith('-') ? -1 : 1;
    const digits = offset.slice(1).replace(':', '');
    const offsetHours = Number(digits.slice(0, 2));
    const offsetMins = Number(digits.slice(2) || '0');
    if (offsetHours > 23 || offsetMins > 59) throw new TimeParameterError(`${name}=${raw} has an invalid UTC offset`);
    offsetMinutes = sign * (offsetHours * 60 + offsetMins);
  }
  const micros = Number(fraction.slice(0, 6).padEnd(6, '0'));
  const ms = midnight + ((h * 60 + mi - offsetMinutes) * 60 + s) * 1000 + Math.floor(micros / 1000);
  return instant(ms, micros % 1000);
}

export function instantFromMs(ms: number): Instant {
  return instant(Math.floor(ms), 0);
}

export function compareInstants(a: Instant, b: Instant): number {
  return a.ms - b.ms || a.micros - b.micros;
}

/**
 * SQL text of a timestamptz as the API prints every time: ISO-8601 in UTC with an explicit offset and
 * microseconds, e.g. `2025-06-15T12:00:00.123456+00:00` (what PostgreSQL stores, nothing rounded).
 */
export const isoUtc = (...column: string[]) =>
  sql.fragment`to_char(${sql.identifier(column)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')`;

/** An instant in the API's format (the same as `isoUtc`), e.g. for the bounds a report used. */
export function apiTime(instant: Instant): string {
  return instant.iso.replace(/Z$/, '+00:00');
}
