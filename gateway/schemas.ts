// JSON schemas of every route: Fastify validates query strings with them (bad input -> 400 before any
// handler runs), serialises object responses with them, and @fastify/swagger publishes them at /docs.
import {
  MAX_ID_LENGTH,
  MAX_IDS_PER_VALUE,
  MAX_PROJECT_ID_VALUES,
  MAX_PROJECT_IDS_VALUE_LENGTH,
  PROJECT_IDS_VALUE_PATTERN,
  SINGLE_ID_VALUE_PATTERN,
  SOME_ID_PATTERN,
} from './params.js';
import { TIME_PARAMETER_PATTERN } from './times.js';

const timestamp = {
  type: 'string',
  format: 'date-time',
  description: 'ISO-8601, UTC with offset and microseconds, e.g. 2025-06-15T12:00:00.123456+00:00',
} as const;
const nullableTimestamp = { ...timestamp, type: ['string', 'null'] } as const;
const score = { type: ['number', 'null'] } as const;
const nullableString = { type: ['string', 'null'] } as const;

const timeParameter = (what: string) =>
  ({
    type: 'string',
    maxLength: 64,
    pattern: TIME_PARAMETER_PATTERN,
    description:
      `${what}; inclusive. Unix seconds with up to 6 decimals (1750000000.25), or ISO-8601 as YYYY-MM-DD with an ` +
      'optional time (T or a space, HH:MM[:SS[.fraction]]) and offset (Z, +HH, +HHMM, +HH:MM; none means UTC), ' +
      'years 1970 to 9999. Empty means the default. A start after the end gives an empty list.',
  }) as const;

const projectIdsDescription =
  `model ids (CrunchDAO's UI calls models projects): comma-joined (projectIds=a,b), repeated ` +
  `(projectIds=a&projectIds=b) or bracketed as axios writes them (projectIds[]=a), mixed freely; at most ` +
  `${MAX_PROJECT_ID_VALUES} values of at most ${MAX_PROJECT_IDS_VALUE_LENGTH} characters, each naming at most ` +
  `${MAX_IDS_PER_VALUE} ids of at most ${MAX_ID_LENGTH} characters, ` +
  'no NUL. Blanks around ids are trimmed and empty ids dropped; at least one id must remain. Unknown ids give [].';

const idList = {
  type: 'array',
  items: { type: 'string', maxLength: MAX_PROJECT_IDS_VALUE_LENGTH, pattern: PROJECT_IDS_VALUE_PATTERN },
  minItems: 1,
  maxItems: MAX_PROJECT_ID_VALUES,
  contains: { type: 'string', pattern: SOME_ID_PATTERN },
  description: projectIdsDescription,
} as const;

const range = {
  start: timeParameter('from; default: 7 days before end'),
  end: timeParameter('until; default: now'),
} as const;

/** The query of /reports/models/global and /params. Unknown parameters are ignored. */
export const reportQuery = {
  type: 'object',
  properties: { projectIds: idList, ...range },
  required: ['projectIds'],
} as const;

/** The query of /reports/predictions: the same, with exactly one model. */
export const predictionsQuery = {
  type: 'object',
  properties: {
    projectIds: {
      ...idList,
      items: { type: 'string', pattern: SINGLE_ID_VALUE_PATTERN },
      maxItems: 1,
      description: `one model id (at most ${MAX_ID_LENGTH} characters, no comma, no NUL; blanks around it are trimmed)`,
    },
    ...range,
  },
  required: ['projectIds'],
} as const;

export interface ReportQuery {
  projectIds: string[];
  start?: string;
  end?: string;
}

export const errorResponse = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    error: { type: 'string' },
    message: { type: 'string' },
  },
  required: ['statusCode', 'error', 'message'],
} as const;

const arrayOf = (properties: Record<string, unknown>) =>
  ({
    type: 'array',
    items: { type: 'object', properties, required: Object.keys(properties) },
  }) as const;

export const modelsResponse = arrayOf({
  model_id: { type: 'string' },
  model_name: { type: 'string' },
  cruncher_name: nullableString,
  cruncher_id: nullableString,
  deployment_id: { ...nullableString, description: 'the most recently seen deployment' },
});

export const leaderboardResponse = arrayOf({
  created_at: { ...timestamp, description: 'when this leaderboard was published' },
  model_id: { type: 'string' },
  score_recent: score,
  score_steady: score,
  score_anchor: score,
  rank: { type: 'integer', minimum: 1 },
  model_name: { type: 'string' },
  cruncher_name: nullableString,
});

export const globalResponse = arrayOf({
  model_id: { type: 'string' },
  score_recent: score,
  score_steady: score,
  score_anchor: score,
  performed_at: { ...timestamp, description: 'the instant of the leaderboard pass (snapshot as_of)' },
});

const group = {
  param: { type: 'string', description: 'asset-horizon-step, e.g. BTC-3600-60' },
  asset: nullableString,
  horizon: { type: ['integer', 'null'] },
  step: { type: ['integer', 'null'] },
  score_recent: score,
  score_steady: score,
  score_anchor: score,
} as const;

export const paramsResponse = arrayOf({
  model_id: { type: 'string' },
  ...group,
  performed_at: { ...timestamp, description: 'the instant of the leaderboard pass (snapshot as_of)' },
});

export const predictionsResponse = arrayOf({
  model_id: { type: 'string' },
  param: { type: 'string' },
  asset: { type: 'string' },
  horizon: { type: 'integer' },
  step: { type: 'integer' },
  score_value: score,
  score_failed: { type: 'boolean' },
  score_success: { type: 'boolean' },
  score_failed_reason: nullableString,
  scored_at: timestamp,
  performed_at: timestamp,
});

const object = (properties: Record<string, unknown>, nullable = false) =>
  ({
    type: nullable ? ['object', 'null'] : 'object',
    properties,
    required: Object.keys(properties),
  }) as const;

export const modelDetailQuery = {
  type: 'object',
  properties: {
    start: timeParameter('counts and recent predictions from; default: 7 days before end'),
    end: timeParameter('until; default: now'),
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 50, description: 'recent predictions to list' },
  },
} as const;

export interface ModelDetailQuery {
  start?: string;
  end?: string;
  limit: number;
}

export const modelDetailParams = {
  type: 'object',
  properties: {
    id: {
      type: 'string',
      minLength: 1,
      maxLength: MAX_ID_LENGTH,
      pattern: '^[^\\u0000]*$',
      // Those names are the report routes of the same prefix.
      not: { enum: ['global', 'params'] },
      description: 'a model id (no NUL); "global" and "params" are the report routes of the same prefix',
    },
  },
  required: ['id'],
} as const;

export const modelDetailResponse = object({
  model_id: { type: 'string' },
  model_name: { type: 'string' },
  cruncher_id: nullableString,
  cruncher_name: nullableString,
  expected_to_run: { type: 'boolean', description: 'whether a missing answer gets an ABSENT row' },
  first_seen_at: timestamp,
  last_seen_at: timestamp,
  deployment: object({ deployment_id: { type: 'string' }, state: { type: 'string' }, last_seen_at: timestamp }, true),
  leaderboard: object(
    {
      created_at: timestamp,
      rank: { type: 'integer' },
      score_recent: score,
      score_steady: score,
      score_anchor: score,
    },
    true,
  ),
  latest_scores: object(
    {
      performed_at: timestamp,
      score_recent: score,
      score_steady: score,
      score_anchor: score,
      groups: { type: 'array', items: object(group) },
    },
    true,
  ),
  window: object({ start: timestamp, end: timestamp }),
  prediction_counts: object({
    total: { type: 'integer' },
    success: { type: 'integer' },
    failed: { type: 'integer' },
    timeout: { type: 'integer' },
    absent: { type: 'integer' },
    scored: { type: 'integer' },
    score_failed: { type: 'integer', description: 'scored as failed (any status other than a valid SUCCESS)' },
  }),
  exec_time_us: object({
    count: { type: 'integer', description: 'SUCCESS calls with an execution time' },
    p50: score,
    p90: score,
    p99: score,
    max: score,
  }),
  recent_predictions: {
    type: 'array',
    items: object({
      id: { type: 'integer' },
      param: { type: 'string' },
      asset: { type: 'string' },
      horizon: { type: 'integer' },
      step: { type: 'integer' },
      status: { type: 'string', enum: ['SUCCESS', 'FAILED', 'TIMEOUT', 'ABSENT'] },
      reason: nullableString,
      exec_time_us: score,
      performed_at: timestamp,
      resolvable_at: timestamp,
      scored_at: nullableTimestamp,
      score_value: score,
      score_success: { type: ['boolean', 'null'] },
      score_failed_reason: nullableString,
    }),
  },
});

const check = object({
  status: { type: 'string', enum: ['up', 'down', 'not configured'] },
  latency_ms: { type: ['number', 'null'] },
  error: nullableString,
});

export const healthResponse = object({
  status: { type: 'string', enum: ['ok', 'unavailable'] },
  database: { ...check, properties: { ...check.properties, read_only: { type: ['boolean', 'null'] } } },
  temporal: check,
});
