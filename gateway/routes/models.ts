// Per-model detail: more than the CrunchDAO UI asks for, for participants and operators.
import type { FastifyInstance } from 'fastify';
import type { ReadOnlyDatabase } from '../database.js';
import { checkModelId, timeRangeOf } from '../params.js';
import {
  latestScores,
  leaderboardStanding,
  modelIdentity,
  predictionActivity,
  recentPredictions,
} from '../queries/model-detail.js';
import {
  errorResponse,
  type ModelDetailQuery,
  modelDetailParams,
  modelDetailQuery,
  modelDetailResponse,
} from '../schemas.js';
import { apiTime } from '../times.js';

export async function modelRoutes(app: FastifyInstance, { database }: { database: ReadOnlyDatabase }) {
  app.get<{ Params: { id: string }; Querystring: ModelDetailQuery }>(
    '/reports/models/:id',
    {
      schema: {
        tags: ['models'],
        summary:
          'One model: latest scores per group, leaderboard standing, prediction counts by status, execution-time percentiles, recent predictions',
        description:
          'The ids "global" and "params" name the report routes of the same prefix, so such models are not reachable here.',
        params: modelDetailParams,
        querystring: modelDetailQuery,
        response: { 200: modelDetailResponse, 400: errorResponse, 404: errorResponse, 503: errorResponse },
      },
    },
    async (request, reply) => {
      const id = checkModelId(request.params.id);
      const range = timeRangeOf(request.query);
      const detail = await database.read(async (db) => {
        const model = await modelIdentity(db, id);
        if (!model) return null;
        // One after the other: on a shared pool `db` is a single transaction connection.
        const standing = await leaderboardStanding(db, id);
        const scores = await latestScores(db, id);
        const activity = await predictionActivity(db, id, range);
        const recent = await recentPredictions(db, id, range, request.query.limit);
        return { model, standing, scores, activity, recent };
      });
      if (!detail) {
        return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `no model with id "${id}"` });
      }
      const { model, standing, scores, activity, recent } = detail;
      return {
        model_id: model.model_id,
        model_name: model.model_name,
        cruncher_id: model.cruncher_id,
        cruncher_name: model.cruncher_name,
        expected_to_run: model.expected_to_run,
        first_seen_at: model.first_seen_at,
        last_seen_at: model.last_seen_at,
        deployment: model.deployment_id
          ? {
              deployment_id: model.deployment_id,
              state: model.deployment_state,
              last_seen_at: model.deployment_last_seen_at,
            }
          : null,
        leaderboard: standing,
        latest_scores: scores,
        window: { start: apiTime(range.start), end: apiTime(range.end) },
        prediction_counts: activity.counts,
        exec_time_us: activity.exec_time_us,
        recent_predictions: recent,
      };
    },
  );
}
