// API keys, as CrunchDAO's node framework gates its report API: off unless a key is configured; then
// paths are public, admin (always the key) or read (the key only when asked), by prefix, public first.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';

export interface ApiKeyOptions {
  /** The shared secret. */
  key: string;
  /** Require the key on read paths too (everything neither public nor admin). */
  readAuth?: boolean;
  publicPrefixes?: readonly string[];
  adminPrefixes?: readonly string[];
}

/** Never asked for a key. `/reports/checkpoints/rewards` is public though it sits under an admin prefix. */
export const defaultPublicPrefixes: readonly string[] = [
  '/healthz',
  '/metrics',
  '/info',
  '/docs',
  '/redoc',
  '/openapi.json',
  '/reports/schema',
  '/reports/leaderboard',
  '/reports/models',
  '/reports/feeds',
  '/reports/diversity',
  '/reports/ensemble',
  '/reports/checkpoints/rewards',
];

/**
 * Always asked for the key: every route under `/reports/checkpoints/` (GETs included). The list itself,
 * `/reports/checkpoints`, is a read path, as in the reference: the platform lists checkpoints without a key.
 */
export const defaultAdminPrefixes: readonly string[] = ['/reports/backfill', '/reports/checkpoints/', '/custom'];

export type AccessTier = 'public' | 'read' | 'admin';

export function accessTier(
  path: string,
  options: Pick<ApiKeyOptions, 'publicPrefixes' | 'adminPrefixes'> = {},
): AccessTier {
  if ((options.publicPrefixes ?? defaultPublicPrefixes).some((prefix) => path.startsWith(prefix))) return 'public';
  if ((options.adminPrefixes ?? defaultAdminPrefixes).some((prefix) => path.startsWith(prefix))) return 'admin';
  return 'read';
}

/** The key a request carries: `X-API-Key`, else `Authorization: Bearer`, else `?api_key=`. */
export function presentedKey(request: Pick<FastifyRequest, 'headers' | 'query'>): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string' && authorization.toLowerCase().startsWith('bearer ')) {
    return authorization.slice(7).trim();
  }
  const query = (request.query ?? {}) as Record<string, unknown>;
  const fromQuery = query.api_key;
  if (typeof fromQuery === 'string' && fromQuery !== '') return fromQuery;
  if (Array.isArray(fromQuery) && typeof fromQuery[0] === 'string') return fromQuery[0];
  return undefined;
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Equal keys, in time that does not depend on where they differ (digests have one length). */
export function sameKey(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/** A URL fit for logs: the value of any `api_key` parameter replaced. */
export function withoutApiKey(url: string): string {
  return url.replace(/([?&]api_key=)[^&#]*/gi, '$1[redacted]');
}

/**
 * Installs the check on every route (call before the routes). A refused request gets 401
 * `{statusCode, error, message, detail: "API key required"}`; the key itself is never logged.
 */
export function installApiKeys(app: FastifyInstance, options: ApiKeyOptions): void {
  if (options.key === '') throw new Error('an API key cannot be empty');
  app.addHook('onRequest', async (request, reply) => {
    // The matched route's pattern, not the raw path: a percent-encoded path reaches the same route and
    // must meet the same tier. Unmatched requests (a 404 to come) are judged by their path.
    const path = request.routeOptions.url ?? request.url.split('?')[0] ?? '';
    const tier = accessTier(path, options);
    if (tier === 'public' || (tier === 'read' && !options.readAuth)) return;
    const key = presentedKey(request);
    if (key !== undefined && sameKey(key, options.key)) return;
    return reply
      .code(401)
      .send({ statusCode: 401, error: 'Unauthorized', message: 'API key required', detail: 'API key required' });
  });
}
