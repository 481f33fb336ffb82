// JSON schemas of the checkpoint, Merkle and node routes: the field names and types of CrunchDAO's node
// report API, which its platform and starter UI read.
import { errorResponse } from './schemas.js';
import { TIME_PARAMETER_PATTERN } from './times.js';

const timestamp = {
  type: 'string',
  format: 'date-time',
  description: 'ISO-8601 UTC with offset and microseconds',
} as const;
const nullableTimestamp = { ...timestamp, type: ['string', 'null'] } as const;
const nullableString = { type: ['string', 'null'] } as const;
const hash = { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'lowercase hex SHA-256' } as const;
const frac64 = {
  type: 'integer',
  minimum: 0,
  maximum: 1_000_000_000,
  description: 'frac64 units: 1e9 = 100 %',
} as const;

/** 4xx bodies of these routes also carry `detail`, the reference's error field. */
export const problemResponse = {
  ...errorResponse,
  properties: { ...errorResponse.properties, detail: { type: 'string' } },
} as const;

const timeParameter = (what: string) =>
  ({
    type: 'string',
    maxLength: 64,
    pattern: TIME_PARAMETER_PATTERN,
    description: `${what}: ISO-8601 (no offset means UTC) or unix seconds; empty means none`,
  }) as const;

/** An id: PostgreSQL text cannot hold NUL, so an id with one names nothing. */
const id = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^\\u0000]*$' } as const;

export const checkpointIdParams = {
  type: 'object',
  properties: { id: { ...id, description: 'a checkpoint id, CKP_%Y%m%d_%H%M%S' } },
  required: ['id'],
} as const;

export const cycleIdParams = {
  type: 'object',
  properties: { id: { ...id, description: 'a Merkle cycle id, CYC_%Y%m%d_%H%M%S_%f' } },
  required: ['id'],
} as const;

const providerReward = {
  type: 'object',
  properties: { provider: { type: 'string' }, reward_pct: frac64 },
  required: ['provider', 'reward_pct'],
} as const;

export const emissionCheckpoint = {
  type: 'object',
  description: "The platform's EmissionCheckpoint; the cruncher rewards sum to exactly 1e9",
  properties: {
    crunch: { type: 'string', description: "the crunch's on-chain address" },
    cruncher_rewards: {
      type: 'array',
      items: {
        type: 'object',
        properties: { cruncher_index: { type: 'integer', minimum: 0, description: 'rank - 1' }, reward_pct: frac64 },
        required: ['cruncher_index', 'reward_pct'],
      },
    },
    compute_provider_rewards: { type: 'array', items: providerReward },
    data_provider_rewards: { type: 'array', items: providerReward },
  },
  required: ['crunch', 'cruncher_rewards', 'compute_provider_rewards', 'data_provider_rewards'],
} as const;

const resultSummary = {
  type: 'object',
  additionalProperties: { type: ['number', 'null'] },
  description: "the model's scores: score_recent, score_steady, score_anchor",
} as const;

export const checkpoint = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'CKP_%Y%m%d_%H%M%S of period_end' },
    period_start: timestamp,
    period_end: timestamp,
    status: { type: 'string', enum: ['PENDING', 'SUBMITTED', 'CLAIMABLE', 'PAID'] },
    entries: { type: 'array', items: emissionCheckpoint, description: 'one EmissionCheckpoint' },
    meta: {
      type: 'object',
      properties: {
        snapshot_count: { type: 'integer' },
        model_count: { type: 'integer' },
        cycle_count: { type: 'integer' },
        leaderboard_as_of: { ...timestamp, description: 'the leaderboard the ranking came from' },
        ranking: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              model_id: { type: 'string' },
              model_name: nullableString,
              cruncher_name: nullableString,
              prediction_count: { type: 'integer' },
              snapshot_count: { type: 'integer' },
              result_summary: resultSummary,
              rank: { type: 'integer', minimum: 1 },
              reward_pct: frac64,
            },
          },
        },
      },
    },
    created_at: timestamp,
    tx_hash: nullableString,
    submitted_at: nullableTimestamp,
    merkle_root: {
      ...hash,
      type: ['string', 'null'],
      description: "root over the chained roots of the checkpoint's cycles",
    },
  },
} as const;

export const checkpointListQuery = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['PENDING', 'SUBMITTED', 'CLAIMABLE', 'PAID'] },
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
  },
} as const;

export const rewardsQuery = {
  type: 'object',
  properties: {
    model_id: { ...id, description: 'only this model' },
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 20, description: 'newest checkpoints' },
  },
} as const;

export const rewardsResponse = {
  type: 'array',
  items: {
    type: 'object',
    description: 'one model in one checkpoint, with the numeric figures of its summary flattened in',
    properties: {
      checkpoint_id: { type: 'string' },
      period_start: timestamp,
      period_end: timestamp,
      model_id: { type: 'string' },
      model_name: nullableString,
      rank: { type: 'integer' },
      reward_pct: { type: 'number', description: 'percent, 4 decimals' },
      prediction_count: { type: 'integer' },
    },
    additionalProperties: true,
  },
} as const;

export const payloadResponse = {
  type: 'object',
  properties: {
    checkpoint_id: { type: 'string' },
    period_start: timestamp,
    period_end: timestamp,
    entries: { type: 'array', items: emissionCheckpoint },
  },
} as const;

const percentByKey = { type: 'object', additionalProperties: { type: 'number' } } as const;

export const cliFormatResponse = {
  type: 'object',
  description: "coordinator CLI's emission file: percentages 0-100 (6 decimals) by model id and provider",
  properties: {
    crunch: { type: 'string' },
    crunchEmission: percentByKey,
    computeProvider: percentByKey,
    dataProvider: percentByKey,
  },
} as const;

export const prizesQuery = {
  type: 'object',
  properties: {
    total_prize: {
      type: 'integer',
      minimum: 0,
      default: 0,
      description: 'the pool to share, in the token’s smallest unit (e.g. USDC base units)',
    },
  },
} as const;

export const prizesResponse = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      prizeId: { type: 'string', description: '<checkpoint id>-<model id>' },
      timestamp: { type: 'integer', description: 'period_end, unix seconds' },
      model: { type: 'string' },
      prize: { type: 'integer' },
    },
  },
} as const;

export const latestEmissionResponse = {
  type: 'object',
  properties: {
    checkpoint_id: { type: 'string' },
    status: { type: 'string' },
    period_start: timestamp,
    period_end: timestamp,
    emission: emissionCheckpoint,
  },
} as const;

export const confirmBody = {
  type: 'object',
  properties: {
    tx_hash: {
      type: 'string',
      maxLength: 200,
      // Some non-space character, and no NUL (PostgreSQL text cannot hold one).
      pattern: '^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$',
      description: "the settling transaction's signature (missing, blank or not text: 422)",
    },
  },
  required: ['tx_hash'],
} as const;

export const statusBody = {
  type: 'object',
  properties: {
    status: {
      type: 'string',
      enum: ['PENDING', 'SUBMITTED', 'CLAIMABLE', 'PAID'],
      description: 'the next status (another value: 422; a move not allowed: 409)',
    },
  },
  required: ['status'],
} as const;

const cycle = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'CYC_%Y%m%d_%H%M%S_%f of the score pass' },
    previous_cycle_id: nullableString,
    previous_cycle_root: { ...hash, type: ['string', 'null'] },
    snapshots_root: hash,
    chained_root: { ...hash, description: 'H(previous_cycle_root + snapshots_root), or snapshots_root for the first' },
    snapshot_count: { type: 'integer' },
    created_at: { ...timestamp, description: "the score pass's instant" },
    checkpoint_id: { ...nullableString, description: 'the checkpoint covering the cycle, once made' },
  },
} as const;

export const cycleResponse = cycle;
export const cyclesResponse = { type: 'array', items: cycle } as const;

export const cyclesQuery = {
  type: 'object',
  properties: {
    since: timeParameter('from (inclusive)'),
    until: timeParameter('until (inclusive)'),
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
  },
} as const;

export const snapshotsQuery = {
  type: 'object',
  properties: {
    model_id: { ...id, description: 'only this model' },
    since: timeParameter('snapshots whose period ends at or after'),
    until: timeParameter('snapshots whose period starts at or before'),
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
  },
} as const;

export const snapshotsResponse = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      model_id: { type: 'string' },
      period_start: { type: 'string', description: "Python isoformat(), exactly as hashed into the snapshot's leaf" },
      period_end: { type: 'string', description: "Python isoformat(), exactly as hashed into the snapshot's leaf" },
      prediction_count: { type: 'integer' },
      result_summary: resultSummary,
      created_at: timestamp,
      cycle_id: { type: 'string' },
      content_hash: hash,
    },
  },
} as const;

export const proofQuery = {
  type: 'object',
  properties: { snapshot_id: { ...id, description: 'a snapshot id of /reports/snapshots' } },
  required: ['snapshot_id'],
} as const;

const path = {
  type: 'array',
  items: {
    type: 'object',
    properties: { hash, position: { type: 'string', enum: ['left', 'right'], description: "the sibling's side" } },
  },
} as const;

export const proofResponse = {
  type: 'object',
  properties: {
    snapshot_id: { type: 'string' },
    snapshot_content_hash: hash,
    cycle_id: { type: 'string' },
    cycle_root: { ...hash, description: "the cycle's chained root" },
    checkpoint_id: nullableString,
    merkle_root: { ...hash, type: ['string', 'null'], description: "the checkpoint's root, once checkpointed" },
    path: { ...path, description: 'from the leaf to snapshots_root' },
    snapshots_root: hash,
    previous_cycle_root: { ...hash, type: ['string', 'null'] },
    checkpoint_path: { ...path, description: 'from cycle_root to merkle_root ([] before the checkpoint)' },
  },
} as const;

export const infoResponse = {
  type: 'object',
  properties: { crunch_id: { type: 'string' }, crunch_address: { type: 'string' }, network: { type: 'string' } },
} as const;

const column = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    type: { type: 'string', enum: ['MODEL', 'VALUE', 'USERNAME', 'CHART'] },
    property: { type: 'string' },
    format: nullableString,
    displayName: { type: 'string' },
    tooltip: nullableString,
    nativeConfiguration: { type: ['object', 'null'], additionalProperties: true },
    order: { type: 'integer' },
  },
} as const;

const widget = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    type: { type: 'string', enum: ['CHART', 'IFRAME'] },
    displayName: { type: 'string' },
    tooltip: nullableString,
    order: { type: 'integer' },
    endpointUrl: { type: 'string' },
    nativeConfiguration: { type: 'object', additionalProperties: true },
  },
} as const;

export const schemaResponse = {
  type: 'object',
  properties: {
    schema_version: { type: 'string' },
    leaderboard_columns: { type: 'array', items: column },
    metrics_widgets: { type: 'array', items: widget },
  },
} as const;
