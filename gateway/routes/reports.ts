// The report API the CrunchDAO UI reads (docs/game.md#report-api), with the fixes of docs/game.md#where-we-differ-from-crunchdaos-code.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ReadOnlyDatabase } from '../database.js';
import type { LeaderboardCache } from '../leaderboard-cache.js';
import { mergeBracketedIds, requiredProjectIds, timeRangeOf } from '../params.js';
import { globalReport, modelsReport, paramsReport, predictionsReport } from '../queries/reports.js';
import {
  errorResponse,
  globalResponse,
  leaderboardResponse,
  modelsResponse,
  paramsResponse,
  predictionsQuery,
  predictionsResponse,
  type ReportQuery,
  reportQuery,
} from '../schemas.js';
import type { SnapshotReportCache } from '../snapshot-cache.js';

export interface ReportRoutesOptions {
  database: ReadOnlyDatabase;
  leaderboard: LeaderboardCache;
  snapshots: SnapshotReportCache;
}

/**
 * Bodies come serialised from PostgreSQL (or the leaderboard cache) and are sent as they are. A string is
 * encoded first: Node's socket writev sizes its buffer for a string at three bytes per character (about
 * 0.8 MB for a 7-day global report) and costs more CPU than `Buffer.from` and a write of the bytes.
 */
function sendJson(reply: FastifyReply, body: string | Buffer): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(typeof body === 'string' ? Buffer.from(body) : body);
}

const tags = ['reports'];
const errors = { 400: errorResponse, 503: errorResponse };

/** Bracketed ids (axios) join `projectIds` before the querystring schema checks the list. */
async function bracketedIds(request: FastifyRequest): Promise<void> {
  mergeBracketedIds(request.query as Record<string, unknown>);
}

export async function reportRoutes(app: FastifyInstance, { database, leaderboard, snapshots }: ReportRoutesOptions) {
  app.get(
    '/reports/models',
    {
      schema: {
        tags,
        summary: 'Every registered model, with its cruncher and latest deployment',
        response: { 200: modelsResponse, 503: errorResponse },
      },
    },
    async (_request, reply) => sendJson(reply, await database.read(modelsReport)),
  );

  app.get(
    '/reports/leaderboard',
    {
      schema: {
        tags,
        summary: 'The newest leaderboard by rank ([] before the first)',
        response: { 200: leaderboardResponse, 503: errorResponse },
      },
    },
    async (_request, reply) => sendJson(reply, await leaderboard.body()),
  );

  app.get<{ Querystring: ReportQuery }>(
    '/reports/models/global',
    {
      schema: {
        tags,
        summary: 'Overall rolling scores of the given models at each leaderboard pass in the range, by time',
        querystring: reportQuery,
        response: { 200: globalResponse, ...errors },
      },
      preValidation: bracketedIds,
    },
    async (request, reply) => {
      const ids = requiredProjectIds(request.query);
      const range = timeRangeOf(request.query);
      return sendJson(reply, await snapshots.body('global', ids, range, (db) => globalReport(db, ids, range)));
    },
  );

  app.get<{ Querystring: ReportQuery }>(
    '/reports/models/params',
    {
      schema: {
        tags,
        summary: 'Rolling scores per (asset, horizon, step) of the given models at each pass in the range, by time',
        querystring: reportQuery,
        response: { 200: paramsResponse, ...errors },
      },
      preValidation: bracketedIds,
    },
    async (request, reply) => {
      const ids = requiredProjectIds(request.query);
      const range = timeRangeOf(request.query);
      return sendJson(reply, await snapshots.body('params', ids, range, (db) => paramsReport(db, ids, range)));
    },
  );

  app.get<{ Querystring: ReportQuery }>(
    '/reports/predictions',
    {
      schema: {
        tags,
        summary: 'Scored predictions of one model made in the range, by time (several models: 400)',
        querystring: predictionsQuery,
        response: { 200: predictionsResponse, ...errors },
      },
      preValidation: bracketedIds,
    },
    async (request, reply) => {
      // The schema allows one value without a comma, so this is that one id.
      const ids = requiredProjectIds(request.query);
      const range = timeRangeOf(request.query);
      const [id] = ids as [string];
      return sendJson(reply, await database.read((db) => predictionsReport(db, id, range)));
    },
  );
}
