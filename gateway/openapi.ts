// What the OpenAPI document must say about every route besides its own schema, so that a client
// generated from it can rely on it: the answers any route may give (429, 431), and a 405 with `Allow`
// for a method a path does not serve, instead of a 404 that says the path does not exist.
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { MAX_REQUEST_HEAD_BYTES } from './params.js';
import { errorResponse } from './schemas.js';

/** Methods answered by every path without a route of their own: HEAD comes with GET, OPTIONS with CORS. */
const ALWAYS_SERVED = new Set(['GET', 'HEAD', 'OPTIONS']);

const tooLarge = {
  ...errorResponse,
  description: `Request Header Fields Too Large: the request line and headers exceed ${MAX_REQUEST_HEAD_BYTES} bytes`,
};
const tooMany = {
  ...errorResponse,
  description: 'Too Many Requests: the per-client rate limit; retry after the seconds in the retry-after header',
};

/**
 * Adds 431 to every documented route (Node refuses oversized request heads before any route runs) and
 * 429 to the rate-limited ones. Call before the routes are added.
 */
export function documentCommonAnswers(app: FastifyInstance, options: { rateLimited: boolean }): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    const schema = route.schema as (Record<string, unknown> & { response?: Record<string, unknown> }) | undefined;
    if (!schema || schema.hide) return;
    const limited = options.rateLimited && (route.config as { rateLimit?: unknown } | undefined)?.rateLimit !== false;
    route.schema = {
      ...schema,
      response: { ...schema.response, ...(limited ? { 429: tooMany } : {}), 431: tooLarge },
    };
  });
}

/**
 * Collects the methods of every path as routes are added; the returned function, called once after the
 * last route, adds a 405 answer (with `Allow`) for every other method Fastify knows on each path.
 */
export function answerUndeclaredMethods(app: FastifyInstance): () => void {
  const methodsOf = new Map<string, Set<string>>();
  let finished = false;
  app.addHook('onRoute', (route: RouteOptions) => {
    if (finished) return;
    const methods = methodsOf.get(route.url) ?? new Set<string>();
    for (const method of [route.method].flat()) methods.add(method);
    methodsOf.set(route.url, methods);
  });
  return () => {
    finished = true;
    for (const [url, methods] of methodsOf) {
      if (url === '*') continue;
      const allow = [...new Set([...methods, 'OPTIONS'])].sort().join(', ');
      const others = app.supportedMethods.filter((method) => !methods.has(method) && !ALWAYS_SERVED.has(method));
      if (others.length === 0) continue;
      const refuse = async (request: FastifyRequest, reply: FastifyReply) =>
        reply
          .code(405)
          .header('allow', allow)
          .send({
            statusCode: 405,
            error: 'Method Not Allowed',
            message: `${request.method} is not served at ${url}; it answers ${allow}`,
          });
      // Answered in onRequest, before Fastify reads a body (QUERY without a Content-Type would be a 400).
      app.route({ method: others, url, schema: { hide: true }, onRequest: refuse, handler: refuse });
    }
  };
}
