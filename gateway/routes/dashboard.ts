// The built-in dashboard: a static page at `/` and its four assets, all held in memory. The page reads
// the gateway's own report API; uPlot comes from node_modules, so nothing is fetched from the internet.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface DashboardOptions {
  /** The Temporal Web UI's base URL (e.g. http://127.0.0.1:8233): cycles link to their runs there. */
  temporalUiUrl?: string;
  temporalNamespace?: string;
}

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
  cacheControl: string;
}

const pageFolder = join(import.meta.dirname, '..', 'dashboard');
const uplotFolder = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));

// Assets are named in the page with their content hash (`?v=`), so a browser may keep them for a year;
// the page itself is revalidated on every load (a 304 when unchanged).
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

const etagOf = (body: Buffer) => `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;

function asset(body: Buffer, type: string, cacheControl: string): Asset {
  return { body, type, etag: etagOf(body), cacheControl };
}

const escapeAttribute = (value: string) =>
  value.replace(/[&"<>]/g, (c) => ({ '&': '&amp;', '"': '&quot;', '<': '&lt;', '>': '&gt;' })[c] ?? c);

async function loadAssets(options: DashboardOptions): Promise<{ page: Asset; files: Map<string, Asset> }> {
  const files = new Map<string, Asset>([
    ['app.js', asset(await readFile(join(pageFolder, 'app.js')), 'text/javascript; charset=utf-8', IMMUTABLE)],
    ['app.css', asset(await readFile(join(pageFolder, 'app.css')), 'text/css; charset=utf-8', IMMUTABLE)],
    [
      'uplot.js',
      asset(await readFile(join(uplotFolder, 'uPlot.iife.min.js')), 'text/javascript; charset=utf-8', IMMUTABLE),
    ],
    ['uplot.css', asset(await readFile(join(uplotFolder, 'uPlot.min.css')), 'text/css; charset=utf-8', IMMUTABLE)],
  ]);
  const values: Record<string, string> = {
    temporalUi: options.temporalUiUrl ?? '',
    temporalNamespace: options.temporalNamespace ?? 'default',
  };
  for (const [name, file] of files) values[name] = file.etag.slice(1, 9);
  const html = (await readFile(join(pageFolder, 'index.html'), 'utf8')).replace(/\{\{([\w.]+)\}\}/g, (_, key: string) =>
    escapeAttribute(values[key] ?? ''),
  );
  return { page: asset(Buffer.from(html), 'text/html; charset=utf-8', REVALIDATE), files };
}

function send(request: FastifyRequest, reply: FastifyReply, file: Asset): FastifyReply {
  reply
    .header('cache-control', file.cacheControl)
    .header('etag', file.etag)
    .header('x-content-type-options', 'nosniff');
  if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
  return reply.type(file.type).send(file.body);
}

const fileNames = ['app.js', 'app.css', 'uplot.js', 'uplot.css'] as const;

export async function dashboardRoutes(app: FastifyInstance, options: DashboardOptions) {
  const { page, files } = await loadAssets(options);
  // Static files are not part of the report API: left out of the OpenAPI document, and not rate limited.
  const config = { rateLimit: false as const };
  app.get('/', { config, schema: { hide: true } }, (request, reply) => send(request, reply, page));
  app.get<{ Params: { file: (typeof fileNames)[number] } }>(
    '/dashboard/:file',
    {
      config,
      schema: {
        hide: true,
        params: { type: 'object', properties: { file: { type: 'string', enum: fileNames } }, required: ['file'] },
      },
    },
    (request, reply) => {
      const file = files.get(request.params.file);
      if (!file) return reply.callNotFound();
      return send(request, reply, file);
    },
  );
}
