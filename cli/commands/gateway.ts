import type { Command } from 'commander';
import { buildGateway } from '../../gateway/app.js';
import { temporalHealthCheck } from '../../gateway/temporal-check.js';
import { defaultDatabaseUrl } from '../../lib/db/index.js';
import { createLogger } from '../../lib/log/index.js';
import type { TemporalOptions } from '../../lib/temporal/index.js';
import { integer, redact } from '../options.js';

const log = createLogger('gateway');

interface CliOptions {
  port: number;
  host: string;
  databaseUrl?: string;
  temporal: boolean;
  temporalAddress: string;
  temporalNamespace: string;
  cors: boolean;
  corsOrigin: string;
  rateLimit: number;
  trustProxy?: boolean;
  statementTimeout: number;
  temporalUi?: string;
}

function temporalOptions(options: CliOptions): TemporalOptions {
  const env = process.env;
  return {
    address: options.temporalAddress,
    namespace: options.temporalNamespace,
    ...(env.TEMPORAL_TLS_CERT && env.TEMPORAL_TLS_KEY
      ? {
          tls: {
            certPath: env.TEMPORAL_TLS_CERT,
            keyPath: env.TEMPORAL_TLS_KEY,
            ...(env.TEMPORAL_TLS_CA ? { serverRootCaPath: env.TEMPORAL_TLS_CA } : {}),
          },
        }
      : {}),
    ...(env.TEMPORAL_API_KEY ? { apiKey: env.TEMPORAL_API_KEY } : {}),
  };
}

export function register(program: Command): void {
  const env = process.env;
  program
    .command('gateway')
    .description(
      'serve the read-only report API (the CrunchDAO UI contract, per-model detail, /healthz, /metrics, /docs)',
    )
    .option('--port <port>', 'port (default GATEWAY_PORT, else 8000)', integer('--port', 0, 65535))
    .option('--host <address>', 'listen address (default GATEWAY_HOST, else 127.0.0.1)')
    .option(
      '--database-url <url>',
      `PostgreSQL connection URL (default: DATABASE_URL, else ${defaultDatabaseUrl}); used read-only`,
    )
    .option(
      '--temporal-address <host:port>',
      'Temporal frontend /healthz checks',
      env.TEMPORAL_ADDRESS || '127.0.0.1:7233',
    )
    .option('--temporal-namespace <name>', 'Temporal namespace', env.TEMPORAL_NAMESPACE || 'default')
    .option('--no-temporal', 'do not check Temporal in /healthz')
    .option(
      '--temporal-ui <url>',
      "Temporal Web UI base URL, for the dashboard's links to predict cycle runs (default TEMPORAL_UI_URL)",
      env.TEMPORAL_UI_URL,
    )
    .option('--cors-origin <origins>', 'browser origins allowed, comma-separated, or * for any', '*')
    .option('--no-cors', 'send no CORS headers')
    .option(
      '--rate-limit <n>',
      'requests per minute per client address, 0 for no limit',
      integer('--rate-limit', 0),
      1200,
    )
    .option('--trust-proxy', 'take the client address from X-Forwarded-For (behind a reverse proxy)')
    .option('--statement-timeout <ms>', 'abort a report query after this long', integer('--statement-timeout', 1), 5000)
    .action(async (options: CliOptions) => {
      const port = options.port ?? (env.GATEWAY_PORT ? integer('GATEWAY_PORT', 0, 65535)(env.GATEWAY_PORT) : 8000);
      const host = options.host ?? env.GATEWAY_HOST ?? '127.0.0.1';
      const databaseUrl = options.databaseUrl ?? env.DATABASE_URL ?? defaultDatabaseUrl;
      const temporal = options.temporal ? temporalHealthCheck(temporalOptions(options)) : undefined;
      const origins = options.corsOrigin.trim() === '*' ? '*' : options.corsOrigin.split(',').map((o) => o.trim());

      let app: Awaited<ReturnType<typeof buildGateway>>;
      try {
        app = await buildGateway({
          db: databaseUrl,
          ...(temporal ? { temporal } : {}),
          cors: options.cors ? { origins } : false,
          rateLimit: options.rateLimit > 0 ? { max: options.rateLimit, timeWindowMs: 60_000 } : false,
          trustProxy: options.trustProxy ?? false,
          statementTimeoutMs: options.statementTimeout,
          dashboard: {
            ...(options.temporalUi ? { temporalUiUrl: options.temporalUi } : {}),
            temporalNamespace: options.temporalNamespace,
          },
          logger: log,
        });
        await app.listen({ port, host });
      } catch (error) {
        const message =
          (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
            ? `port ${port} on ${host} is taken`
            : (error as Error).message;
        console.error(`gateway could not start (${redact(databaseUrl)}): ${message}`);
        await temporal?.close();
        process.exit(1);
      }

      const address = app.server.address();
      const actualPort = typeof address === 'object' && address ? address.port : port;
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
      console.log(`report gateway listening on ${url} (API docs at ${url}/docs), reading ${redact(databaseUrl)}`);

      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, `received ${signal}: closing the report gateway`);
        Promise.all([app.close(), temporal?.close()]).then(
          () => {
            console.log('report gateway closed');
            process.exit(0);
          },
          (error: unknown) => {
            log.error({ error: (error as Error).message }, 'the report gateway did not close cleanly');
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
}
