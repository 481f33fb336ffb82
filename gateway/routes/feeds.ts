// The feed reports CrunchDAO's newer UI reads from a node: what each source stored per asset, and the
// latest stored points.
import type { FastifyInstance } from 'fastify';
import type { ReadOnlyDatabase } from '../database.js';
import { feedsReport, feedTail } from '../queries/feeds.js';
import { errorResponse, type FeedTailQuery, feedsResponse, feedTailQuery, feedTailResponse } from '../schemas.js';

export interface FeedRoutesOptions {
  database: ReadOnlyDatabase;
}

const tags = ['reports'];

export async function feedRoutes(app: FastifyInstance, { database }: FeedRoutesOptions) {
  app.get(
    '/reports/feeds',
    {
      schema: {
        tags,
        summary: 'Each price source and asset: points stored, oldest and newest, and the asset’s watermark',
        response: { 200: feedsResponse, 503: errorResponse },
      },
    },
    async () => database.read(feedsReport),
  );

  app.get<{ Querystring: FeedTailQuery }>(
    '/reports/feeds/tail',
    {
      schema: {
        tags,
        summary: 'The latest stored prices, newest first (limit 1-200, default 20)',
        querystring: feedTailQuery,
        response: { 200: feedTailResponse, 400: errorResponse, 503: errorResponse },
      },
    },
    async (request) => database.read((db) => feedTail(db, request.query)),
  );
}
