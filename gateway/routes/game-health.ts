// Read-only views of how the game runs, for the dashboard and for operators: the newest predict cycles
// and the newest prices per asset.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ReadOnlyDatabase } from '../database.js';
import { cyclesReport, pricesTail } from '../queries/game-health.js';
import { errorResponse } from '../schemas.js';

const timestamp = { type: 'string', format: 'date-time' } as const;

export const cyclesQuery = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 200, default: 30, description: 'cycles to list, newest first' },
    late_after: {
      type: 'number',
      minimum: 0,
      maximum: 3600,
      default: 15,
      description: 'a cycle is late when its first answer was stored more than this many seconds after its instant',
    },
  },
  additionalProperties: true,
} as const;

const cyclesResponse = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      scheduled_at: { ...timestamp, description: 'the instant the cycle stands for (its scheduled time)' },
      on_time: { type: 'boolean' },
      first_answer_after_seconds: { type: 'number' },
      last_answer_after_seconds: { type: 'number' },
      models_called: { type: 'integer' },
      predictions: { type: 'integer' },
      success: { type: 'integer' },
      failed: { type: 'integer' },
      timeout: { type: 'integer' },
      absent: { type: 'integer' },
      assets: { type: 'array', items: { type: 'string' } },
      failure_reasons: {
        type: 'array',
        maxItems: 5,
        items: {
          type: 'object',
          properties: { reason: { type: 'string' }, count: { type: 'integer' } },
          required: ['reason', 'count'],
        },
      },
    },
    required: [
      'scheduled_at',
      'on_time',
      'first_answer_after_seconds',
      'last_answer_after_seconds',
      'models_called',
      'predictions',
      'success',
      'failed',
      'timeout',
      'absent',
      'assets',
      'failure_reasons',
    ],
  },
} as const;

export const pricesQuery = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1440, default: 60, description: 'points per asset' },
  },
  additionalProperties: true,
} as const;

const pricesResponse = {
  type: 'array',
  items: {
    type: 'object',
    properties: { asset: { type: 'string' }, ts: timestamp, price: { type: 'number' } },
    required: ['asset', 'ts', 'price'],
  },
} as const;

function sendJson(reply: FastifyReply, body: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(Buffer.from(body));
}

export async function gameHealthRoutes(app: FastifyInstance, { database }: { database: ReadOnlyDatabase }) {
  app.get<{ Querystring: { limit: number; late_after: number } }>(
    '/reports/cycles',
    {
      schema: {
        tags: ['operations'],
        summary: 'The newest predict cycles, from the predictions they stored: on time or late, models, statuses',
        querystring: cyclesQuery,
        response: { 200: cyclesResponse, 400: errorResponse, 503: errorResponse },
      },
    },
    async (request, reply) =>
      sendJson(reply, await database.read((db) => cyclesReport(db, request.query.limit, request.query.late_after))),
  );

  app.get<{ Querystring: { limit: number } }>(
    '/reports/prices/tail',
    {
      schema: {
        tags: ['operations'],
        summary: 'The newest one-minute prices of each predicted asset, newest first within each asset',
        querystring: pricesQuery,
        response: { 200: pricesResponse, 400: errorResponse, 503: errorResponse },
      },
    },
    async (request, reply) => sendJson(reply, await database.read((db) => pricesTail(db, request.query.limit))),
  );
}
