// Checkpoints as CrunchDAO's platform reads and settles them: the list, one checkpoint and its views
// (payload, emission, the CLI's emission file, prizes), the confirmation and status moves it sends,
// and the reward history. Every route under /reports/checkpoints/ is admin when an API key is set.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  type CheckpointStatus,
  checkpointStatuses,
  confirmCheckpoint,
  moveCheckpointStatus,
  type StatusChange,
} from '../../lib/db/index.js';
import { type EmissionCheckpoint, FRAC64_WHOLE, roundHalfEven } from '../../lib/emission/index.js';
import type { ReadOnlyDatabase, WritableDatabase } from '../database.js';
import {
  checkpointIdParams,
  checkpointListQuery,
  checkpoint as checkpointSchema,
  cliFormatResponse,
  confirmBody,
  latestEmissionResponse,
  payloadResponse,
  prizesQuery,
  prizesResponse,
  problemResponse,
  rewardsQuery,
  rewardsResponse,
  statusBody,
} from '../emission-schemas.js';
import { BadRequestError } from '../params.js';
import { checkpointById, checkpointList, checkpointRewards, latestCheckpoint } from '../queries/checkpoints.js';

export interface CheckpointRoutesOptions {
  database: ReadOnlyDatabase;
  writer: WritableDatabase;
}

/** A checkpoint document as the queries build it. */
interface CheckpointDocument {
  id: string;
  period_start: string;
  period_end: string;
  status: CheckpointStatus;
  entries: EmissionCheckpoint[];
  meta: { ranking: Array<{ model_id: string; rank: number }> };
}

const REASONS: Record<number, string> = {
  401: 'Unauthorized',
  404: 'Not Found',
  409: 'Conflict',
  422: 'Unprocessable Entity',
};

/** An error with the gateway's fields and the reference's `detail`. */
export function problem(reply: FastifyReply, code: number, message: string): FastifyReply {
  return reply.code(code).send({ statusCode: code, error: REASONS[code] ?? 'Error', message, detail: message });
}

const sendJson = (reply: FastifyReply, body: string) =>
  reply.type('application/json; charset=utf-8').send(Buffer.from(body));

const tags = ['checkpoints'];

/** PostgreSQL text cannot hold NUL, so such an id names nothing: a 400 saying so, not a failed query. */
export function idOf(id: string): string {
  if (id.includes('\u0000')) throw new BadRequestError('an id cannot contain a NUL character (%00)');
  return id;
}

/**
 * Refuses a body whose `field` is not text before validation runs: Fastify's validator would turn a
 * number into a string, and a transaction hash of 42 is a caller's mistake, not a hash.
 */
const textField = (field: string) => async (request: FastifyRequest, reply: FastifyReply) => {
  const body = request.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return problem(reply, 422, `the body must be a JSON object with "${field}"`);
  }
  const value = (body as Record<string, unknown>)[field];
  if (value !== undefined && typeof value !== 'string') return problem(reply, 422, `${field} must be a string`);
};
const byId = { params: checkpointIdParams };
/** The answers of a route that names a checkpoint: 400 for an id the schema refuses, 404 for an unknown one. */
const notFound = { 400: problemResponse, 404: problemResponse, 503: problemResponse };

/** `+00:00` rather than the API's microsecond form, as the reference's payload writes period bounds. */
const isoformat = (iso: string) => iso.replace(/\.000000\+00:00$/, '+00:00');

/** Options of the two settlement routes: a text `field` in a JSON object body; 422 for anything else. */
const settlement = (field: string, body: object, summary: string) => ({
  attachValidation: true,
  preValidation: textField(field),
  schema: {
    tags,
    summary,
    ...byId,
    body,
    response: { 200: checkpointSchema, 401: problemResponse, 409: problemResponse, 422: problemResponse, ...notFound },
  },
});

const modelOf = (document: CheckpointDocument, index: number): string =>
  document.meta.ranking[index]?.model_id ?? String(index);

export async function checkpointRoutes(app: FastifyInstance, { database, writer }: CheckpointRoutesOptions) {
  const find = async (id: string): Promise<CheckpointDocument | null> => {
    const body = await database.read((db) => checkpointById(db, id));
    return body === null ? null : (JSON.parse(body) as CheckpointDocument);
  };

  app.get<{ Querystring: { status?: string; limit: number } }>(
    '/reports/checkpoints',
    {
      schema: {
        tags,
        summary: 'Checkpoints, newest first, optionally of one status',
        querystring: checkpointListQuery,
        response: { 200: { type: 'array', items: checkpointSchema }, 400: problemResponse, 503: problemResponse },
      },
    },
    async (request, reply) => sendJson(reply, await database.read((db) => checkpointList(db, request.query))),
  );

  app.get(
    '/reports/checkpoints/latest',
    {
      schema: {
        tags,
        summary: 'The newest checkpoint (404 if none)',
        response: { 200: checkpointSchema, ...notFound },
      },
    },
    async (_request, reply) => {
      const body = await database.read(latestCheckpoint);
      return body === null ? problem(reply, 404, 'No checkpoints found') : sendJson(reply, body);
    },
  );

  app.get<{ Querystring: { model_id?: string; limit: number } }>(
    '/reports/checkpoints/rewards',
    {
      schema: {
        tags,
        summary: 'Reward history: each model of the newest checkpoints with its rank and reward (percent)',
        querystring: rewardsQuery,
        response: { 200: rewardsResponse, 400: problemResponse, 503: problemResponse },
      },
    },
    async (request, reply) =>
      sendJson(
        reply,
        await database.read((db) =>
          checkpointRewards(db, {
            modelId: request.query.model_id === undefined ? undefined : idOf(request.query.model_id),
            limit: request.query.limit,
          }),
        ),
      ),
  );

  app.get<{ Params: { id: string } }>(
    '/reports/checkpoints/:id',
    { schema: { tags, summary: 'One checkpoint', ...byId, response: { 200: checkpointSchema, ...notFound } } },
    async (request, reply) => {
      const body = await database.read((db) => checkpointById(db, idOf(request.params.id)));
      return body === null ? problem(reply, 404, 'Checkpoint not found') : sendJson(reply, body);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/reports/checkpoints/:id/payload',
    {
      schema: {
        tags,
        summary: 'What the platform signs: period and emission',
        ...byId,
        response: { 200: payloadResponse, ...notFound },
      },
    },
    async (request, reply) => {
      const found = await find(idOf(request.params.id));
      if (!found) return problem(reply, 404, 'Checkpoint not found');
      return {
        checkpoint_id: found.id,
        period_start: isoformat(found.period_start),
        period_end: isoformat(found.period_end),
        entries: found.entries,
      };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/reports/checkpoints/:id/emission',
    {
      schema: {
        tags,
        summary: 'The EmissionCheckpoint to submit on chain',
        ...byId,
        response: { 200: checkpointSchema.properties.entries.items, ...notFound },
      },
    },
    async (request, reply) => {
      const emission = (await find(idOf(request.params.id)))?.entries[0];
      return emission ?? problem(reply, 404, 'Checkpoint not found');
    },
  );

  app.get<{ Params: { id: string } }>(
    '/reports/checkpoints/:id/emission/cli-format',
    {
      schema: {
        tags,
        summary: "The emission as the coordinator CLI's file (percent by model id)",
        ...byId,
        response: { 200: cliFormatResponse, ...notFound },
      },
    },
    async (request, reply) => {
      const found = await find(idOf(request.params.id));
      const emission = found?.entries[0];
      if (!found || !emission) return problem(reply, 404, 'Checkpoint not found');
      const percent = (reward: number) => Number(((reward / FRAC64_WHOLE) * 100).toFixed(6));
      const byProvider = (rewards: EmissionCheckpoint['data_provider_rewards']) =>
        Object.fromEntries(rewards.map((reward) => [reward.provider, percent(reward.reward_pct)]));
      return {
        crunch: emission.crunch,
        crunchEmission: Object.fromEntries(
          emission.cruncher_rewards.map((reward) => [
            modelOf(found, reward.cruncher_index),
            percent(reward.reward_pct),
          ]),
        ),
        computeProvider: byProvider(emission.compute_provider_rewards),
        dataProvider: byProvider(emission.data_provider_rewards),
      };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { total_prize: number } }>(
    '/reports/checkpoints/:id/prizes',
    {
      schema: {
        tags,
        summary: "The prizes the platform creates on chain: total_prize shared by each model's reward",
        ...byId,
        querystring: prizesQuery,
        response: { 200: prizesResponse, ...notFound },
      },
    },
    async (request, reply) => {
      const found = await find(idOf(request.params.id));
      const emission = found?.entries[0];
      if (!found || !emission) return problem(reply, 404, 'Checkpoint not found');
      const timestamp = Math.floor(Date.parse(found.period_end) / 1000);
      return emission.cruncher_rewards.map((reward) => {
        const model = modelOf(found, reward.cruncher_index);
        return {
          prizeId: `${found.id}-${model}`,
          timestamp,
          model,
          prize: roundHalfEven(request.query.total_prize * (reward.reward_pct / FRAC64_WHOLE)),
        };
      });
    },
  );

  const answer = async (
    reply: FastifyReply,
    id: string,
    change: StatusChange,
    conflict: (c: Extract<StatusChange, { outcome: 'conflict' }>) => string,
  ) => {
    if (change.outcome === 'not-found') return problem(reply, 404, 'Checkpoint not found');
    if (change.outcome === 'conflict') return problem(reply, 409, conflict(change));
    const body = await database.read((db) => checkpointById(db, id));
    return body === null ? problem(reply, 404, 'Checkpoint not found') : sendJson(reply, body);
  };

  app.post<{ Params: { id: string }; Body: { tx_hash?: string } }>(
    '/reports/checkpoints/:id/confirm',
    settlement(
      'tx_hash',
      confirmBody,
      'The platform settled the checkpoint: SUBMITTED with the transaction hash (the same hash again: 200, unchanged)',
    ),
    async (request, reply) => {
      if (request.validationError) return problem(reply, 422, `bad body: ${request.validationError.message}`);
      const txHash = request.body?.tx_hash?.trim();
      if (!txHash) return problem(reply, 422, 'tx_hash required');
      const id = idOf(request.params.id);
      const change = await writer.write((db) => confirmCheckpoint(db, id, txHash));
      return answer(
        reply,
        id,
        change,
        (c) => `Checkpoint is ${c.status}${c.txHash ? ` with tx_hash ${c.txHash}` : ''}, expected PENDING`,
      );
    },
  );

  app.patch<{ Params: { id: string }; Body: { status?: string } }>(
    '/reports/checkpoints/:id/status',
    settlement(
      'status',
      statusBody,
      'Move the status one step: PENDING -> SUBMITTED -> CLAIMABLE -> PAID (anything else: 409)',
    ),
    async (request, reply) => {
      if (request.validationError) return problem(reply, 422, `bad body: ${request.validationError.message}`);
      const status = request.body?.status;
      if (!checkpointStatuses.includes(status as CheckpointStatus)) {
        return problem(reply, 422, `Invalid status: ${String(status)}. Valid: ${checkpointStatuses.join(', ')}`);
      }
      const id = idOf(request.params.id);
      const change = await writer.write((db) => moveCheckpointStatus(db, id, status as CheckpointStatus));
      return answer(reply, id, change, (c) => `Cannot transition from ${c.status} to ${status}`);
    },
  );

  app.get(
    '/reports/emissions/latest',
    {
      schema: {
        tags,
        summary: "The newest checkpoint's emission",
        response: { 200: latestEmissionResponse, ...notFound },
      },
    },
    async (_request, reply) => {
      const body = await database.read(latestCheckpoint);
      const found = body === null ? null : (JSON.parse(body) as CheckpointDocument);
      if (!found?.entries[0]) return problem(reply, 404, 'No checkpoints found');
      return {
        checkpoint_id: found.id,
        status: found.status,
        period_start: found.period_start,
        period_end: found.period_end,
        emission: found.entries[0],
      };
    },
  );
}
