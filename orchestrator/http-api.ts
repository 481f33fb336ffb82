import { existsSync, readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import type { CappedLog } from './capped-log.js';
import type { ModelStatus } from './types.js';

export type LogKind = 'build' | 'runner';

export interface HttpApiSource {
  models(): ModelStatus[];
  log(modelId: string, kind: LogKind): CappedLog | undefined;
}

const nullable = (type: string) => ({ type: [type, 'null'] });

const modelStatusSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    submissionId: { type: 'string' },
    crunchId: { type: 'string' },
    desiredState: { type: 'string' },
    phase: { type: 'string' },
    deploymentId: nullable('string'),
    port: nullable('integer'),
    pid: nullable('integer'),
    restarts: { type: 'integer' },
    lastError: nullable('string'),
    environment: {
      type: ['object', 'null'],
      properties: { hash: { type: 'string' }, dir: { type: 'string' }, reused: { type: 'boolean' } },
    },
    quarantine: {
      type: ['object', 'null'],
      properties: { failureCode: { type: 'string' }, reason: nullable('string') },
    },
  },
} as const;

const errorSchema = { type: 'object', properties: { error: { type: 'string' } } } as const;
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1 } } } as const;

/**
 * The orchestrator's HTTP API: model states and their logs. Unknown ids get a JSON 404, bad query
 * values a JSON 400 (from the route schemas).
 */
export function buildHttpApi(source: HttpApiSource): FastifyInstance {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const followers = new Set<PassThrough>();

  app.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    void reply.status(status).send({ error: error.message });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: `no route ${request.method} ${request.url}` });
  });
  app.addHook('onClose', async () => {
    for (const stream of followers) stream.end();
  });

  app.get('/models', { schema: { response: { 200: { type: 'array', items: modelStatusSchema } } } }, async () =>
    source.models(),
  );

  app.get<{ Params: { id: string } }>(
    '/models/:id',
    { schema: { params: idParams, response: { 200: modelStatusSchema, 404: errorSchema } } },
    async (request, reply) => {
      const model = source.models().find((candidate) => candidate.id === request.params.id);
      if (!model) return reply.status(404).send({ error: `no model ${request.params.id}` });
      return model;
    },
  );

  app.get<{ Params: { id: string }; Querystring: { kind: LogKind; follow: boolean } }>(
    '/models/:id/logs',
    {
      schema: {
        params: idParams,
        querystring: {
          type: 'object',
          properties: {
            kind: { type: 'string', enum: ['build', 'runner'], default: 'runner' },
            follow: { type: 'boolean', default: false },
          },
        },
        response: { 400: errorSchema, 404: errorSchema },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const { kind, follow } = request.query;
      const log = source.log(id, kind);
      if (!log) return reply.status(404).send({ error: `no model ${id}` });
      const existing = existsSync(log.path) ? readFileSync(log.path, 'utf8') : '';
      void reply.type('text/plain; charset=utf-8');
      if (!follow) return existing;
      // Read and subscribe in the same tick: log writes are synchronous, so no line falls between.
      const stream = new PassThrough();
      followers.add(stream);
      stream.write(existing);
      const onData = (text: string): void => {
        stream.write(text);
      };
      const onClose = (): void => {
        stream.end();
      };
      log.on('data', onData);
      log.once('close', onClose);
      const stop = (): void => {
        log.off('data', onData);
        log.off('close', onClose);
        followers.delete(stream);
        stream.end();
      };
      reply.raw.once('close', stop);
      stream.once('close', stop);
      return reply.send(stream);
    },
  );

  return app;
}
