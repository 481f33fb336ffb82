import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/**
 * OpenAPI 3.1 generated from the route schemas, served at /docs/json and /docs/yaml, and Swagger UI at
 * /docs (its assets come from node_modules: nothing is fetched from the internet). Must be installed
 * before the routes so it sees them.
 */
export async function installDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Coordinator report API',
        description:
          'Read-only reports of a CrunchDAO-style coordinator: models, leaderboard, rolling scores and predictions ' +
          '(the API the CrunchDAO coordinator-webapp reads), per-model detail, health and metrics. ' +
          'Times are ISO-8601 in UTC with an explicit offset; query times accept ISO-8601 or unix seconds.',
        version: '1.0.0',
      },
      tags: [
        { name: 'reports', description: 'the CrunchDAO UI contract (docs/game.md#report-api)' },
        { name: 'models', description: 'per-model detail' },
        { name: 'operations', description: 'health and metrics' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}
