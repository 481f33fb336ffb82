import { type Instant, instantFromMs, parseTimeParameter, TimeParameterError } from './times.js';

/** Most `projectIds` values one request may give (the parameter repeated). */
export const MAX_PROJECT_ID_VALUES = 100;
/** Most model ids one `projectIds` value may name, comma-separated. */
export const MAX_IDS_PER_VALUE = 100;
/** Longest `projectIds` value, in characters (54 UUIDs, comma-joined). */
export const MAX_PROJECT_IDS_VALUE_LENGTH = 2_000;
/**
 * Node's limit on a request's head (request line and headers; 16 KB by default): large enough for the
 * longest query the schemas allow, every character percent-encoded from four UTF-8 bytes (12 bytes), so
 * a request the OpenAPI document calls valid is never refused as too large (431).
 */
export const MAX_REQUEST_HEAD_BYTES = MAX_PROJECT_ID_VALUES * (MAX_PROJECT_IDS_VALUE_LENGTH * 12 + 16) + 65_536;
/** Length limit of one model id, in characters (code points, as JSON Schema counts), blanks included. */
export const MAX_ID_LENGTH = 200;
/** The range a report covers when the caller gives no `start`. */
export const DEFAULT_RANGE_MS = 7 * 86_400_000;

// The rules below are the ones the OpenAPI document states (schemas.ts builds its patterns from these
// constants) and the querystring schemas enforce; the functions here only split what already passed.

/** One id: any characters but a comma and NUL (PostgreSQL text cannot hold it), at most MAX_ID_LENGTH. */
const ID = `[^,\\u0000]{0,${MAX_ID_LENGTH}}`;
/** A `projectIds` value: at most MAX_IDS_PER_VALUE ids, comma-separated. */
export const PROJECT_IDS_VALUE_PATTERN = `^${ID}(?:,${ID}){0,${MAX_IDS_PER_VALUE - 1}}$`;
/** A value naming exactly one id (no comma), as /reports/predictions takes. */
export const SINGLE_ID_VALUE_PATTERN = `^${ID}$`;
/** Blanks trimmed around ids: ASCII space, tab, carriage return, line feed. */
const BLANKS = ' \\t\\r\\n';
/** Somewhere in the list, a character that is neither a comma nor a blank: at least one id. */
export const SOME_ID_PATTERN = `[^,${BLANKS}]`;
const TRIM = new RegExp(`^[${BLANKS}]+|[${BLANKS}]+$`, 'g');

/** A request the gateway refuses with a 400 and this message. */
export class BadRequestError extends Error {
  readonly statusCode = 400;
}

/**
 * Axios writes arrays as `projectIds[]=a&projectIds[]=b`: such values are taken as `projectIds` (a
 * preValidation hook calls this before the querystring schema checks the merged list).
 */
export function mergeBracketedIds(query: Record<string, unknown>): void {
  const bracketed = query['projectIds[]'];
  if (bracketed === undefined) return;
  const asList = (value: unknown) => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
  query.projectIds = [...asList(query.projectIds), ...asList(bracketed)];
  delete query['projectIds[]'];
}

/**
 * The model ids of `projectIds`, which the CrunchDAO UI sends as one comma-joined value and other clients
 * as repeated parameters (`projectIds=a&projectIds=b`): all forms, mixed, give one de-duplicated list in
 * the order first named, blanks around ids trimmed and empty ids dropped.
 */
export function projectIdsOf(query: { projectIds?: string[] }): string[] {
  const ids = new Set<string>();
  for (const value of query.projectIds ?? []) {
    for (const id of value.split(',')) {
      const trimmed = id.replace(TRIM, '');
      if (trimmed) ids.add(checkModelId(trimmed));
    }
  }
  return [...ids];
}

/** PostgreSQL text cannot hold NUL, so such an id can name no model; say so instead of failing the query. */
export function checkModelId(id: string): string {
  if (id.includes('\u0000')) throw new BadRequestError('a model id cannot contain a NUL character (%00)');
  return id;
}

export function requiredProjectIds(query: { projectIds?: string[] }): string[] {
  const ids = projectIdsOf(query);
  if (ids.length === 0) {
    throw new BadRequestError(
      'projectIds is required: one or more model ids, comma-separated (projectIds=a,b) or repeated (projectIds=a&projectIds=b)',
    );
  }
  return ids;
}

export interface TimeRange {
  start: Instant;
  end: Instant;
}

/**
 * `start` and `end`, both inclusive. Missing or empty `end` is now; missing or empty `start` is 7 days
 * before `end`. A start after the end is an empty range (the reports are then empty lists), as a
 * document can state every rule of a single parameter but not one between two.
 */
export function timeRangeOf(query: { start?: string; end?: string }, nowMs: number = Date.now()): TimeRange {
  try {
    const end = query.end ? parseTimeParameter(query.end, 'end') : instantFromMs(nowMs);
    const start = query.start
      ? parseTimeParameter(query.start, 'start')
      : instantFromMs(Math.max(0, end.ms - DEFAULT_RANGE_MS));
    return { start, end };
  } catch (error) {
    if (error instanceof TimeParameterError) throw new BadRequestError(error.message);
    throw error;
  }
}
