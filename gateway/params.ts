import { compareInstants, type Instant, instantFromMs, parseTimeParameter, TimeParameterError } from './times.js';

/** Most model ids one report request may name (after splitting comma lists). */
export const MAX_PROJECT_IDS = 100;
/** Length limit of one model id, as the querystring schemas enforce it. */
export const MAX_ID_LENGTH = 200;
/** The range a report covers when the caller gives no `start`. */
export const DEFAULT_RANGE_MS = 7 * 86_400_000;

/** A request the gateway refuses with a 400 and this message. */
export class BadRequestError extends Error {
  readonly statusCode = 400;
}

/**
 * The model ids of `projectIds`, which the CrunchDAO UI sends as one comma-joined value and other clients
 * as repeated parameters (`projectIds=a&projectIds=b`, or axios' `projectIds[]=a`): all forms, mixed,
 * give one de-duplicated list in the order first named.
 */
export function projectIdsOf(query: { projectIds?: string[]; 'projectIds[]'?: string[] }): string[] {
  const ids = new Set<string>();
  for (const value of [...(query.projectIds ?? []), ...(query['projectIds[]'] ?? [])]) {
    for (const id of value.split(',')) {
      const trimmed = id.trim();
      if (trimmed) ids.add(trimmed);
    }
  }
  if (ids.size > MAX_PROJECT_IDS) {
    throw new BadRequestError(`projectIds names ${ids.size} models; at most ${MAX_PROJECT_IDS} per request`);
  }
  for (const id of ids) {
    if (id.length > MAX_ID_LENGTH) {
      throw new BadRequestError(`a model id in projectIds is longer than ${MAX_ID_LENGTH}`);
    }
    checkModelId(id);
  }
  return [...ids];
}

/** PostgreSQL text cannot hold NUL, so such an id can name no model; say so instead of failing the query. */
export function checkModelId(id: string): string {
  if (id.includes('\u0000')) throw new BadRequestError('a model id cannot contain a NUL character (%00)');
  return id;
}

export function requiredProjectIds(query: { projectIds?: string[]; 'projectIds[]'?: string[] }): string[] {
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
 * before `end`. A start after the end is refused rather than answered with an empty list.
 */
export function timeRangeOf(query: { start?: string; end?: string }, nowMs: number = Date.now()): TimeRange {
  try {
    const end = query.end?.trim() ? parseTimeParameter(query.end, 'end') : instantFromMs(nowMs);
    const start = query.start?.trim()
      ? parseTimeParameter(query.start, 'start')
      : instantFromMs(Math.max(0, end.ms - DEFAULT_RANGE_MS));
    if (compareInstants(start, end) > 0) {
      throw new BadRequestError(`start (${start.iso}) is after end (${end.iso})`);
    }
    return { start, end };
  } catch (error) {
    if (error instanceof TimeParameterError) throw new BadRequestError(error.message);
    throw error;
  }
}
