import { databaseUrl, type Settings } from '../lib/config/index.js';
import {
  createDatabasePool,
  type DatabasePool,
  defaultDatabaseUrl,
  ensureDatabase,
  migrate,
  tracingInterceptor,
} from '../lib/db/index.js';
import { type GameDefinition, getGame } from '../lib/game/index.js';
import { createLogger, type Logger } from '../lib/log/index.js';
import { createPriceSource, type PriceSource } from '../lib/market-data/index.js';
import { loadModelCredentials, ModelRunnerClient } from '../lib/model-runner/index.js';

/** The database, created (our default one only) and migrated: every process may be the first to start. */
export async function openDatabase(
  settings: Settings,
  logger: Logger,
  maximumPoolSize = 10,
  options: { traced?: boolean } = {},
): Promise<DatabasePool> {
  const url = databaseUrl(settings);
  if (url === defaultDatabaseUrl && (await ensureDatabase(url))) logger.info('created the coordinator database');
  const { applied } = await migrate({ connectionString: url, logger });
  if (applied.length > 0) logger.info({ applied }, `applied ${applied.length} database migration(s)`);
  // Traced: each statement is a span of the activity (or fan-out) that runs it.
  const interceptors = options.traced ? [tracingInterceptor()] : [];
  return createDatabasePool({ connectionString: url, maximumPoolSize, interceptors });
}

export function gameOf(settings: Settings): GameDefinition {
  return getGame(settings.GAME);
}

/** The worker's one model client, following the orchestrator's announcements. */
export async function openModelClient(settings: Settings): Promise<ModelRunnerClient> {
  const client = new ModelRunnerClient({
    discoveryUrl: settings.ORCHESTRATOR_URL,
    className: gameOf(settings).setupClassName,
    maxConsecutiveFailures: settings.MAX_CONSECUTIVE_FAILURES,
    maxConsecutiveTimeouts: settings.MAX_CONSECUTIVE_TIMEOUTS,
    transport: settings.MODEL_TRANSPORT,
    maxAnswerBytes: settings.MAX_ANSWER_BYTES ?? gameOf(settings).maxAnswerBytes,
    // Secure or gateway mode; a missing or wrong credentials file stops the worker here, with its name.
    credentials: loadModelCredentials({
      secureCertDir: settings.SECURE_CERT_DIR,
      gatewayCertDir: settings.GATEWAY_CERT_DIR,
    }),
    logger: createLogger('model-runner'),
  });
  await client.start();
  return client;
}

export function openPriceSource(settings: Settings): Promise<PriceSource> {
  return createPriceSource(settings.MARKET_DATA, { logger: createLogger('market-data') });
}
