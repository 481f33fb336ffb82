// `coordinator start`: the whole coordinator on one machine, each part with its embedded default.
import { resolve } from 'node:path';
import { buildGateway } from '../gateway/app.js';
import { temporalHealthCheck } from '../gateway/temporal-check.js';
import { databaseUrl, readSettings, type Settings, temporalOptions } from '../lib/config/index.js';
import { checkCallDeadline } from '../lib/cycle/index.js';
import { getGame } from '../lib/game/index.js';
import { createLogger, type Logger } from '../lib/log/index.js';
import { createPriceSource } from '../lib/market-data/index.js';
import { connectClient, type RunningDevServer, startDevServer } from '../lib/temporal/index.js';
import { Orchestrator } from '../orchestrator/index.js';
import { openDatabase } from '../workers/resources.js';
import { allQueues, runWorkers } from '../workers/run.js';
import { chooseDatabase } from './database.js';
import { activateGame } from './game-plan.js';
import { redact } from './options.js';
import { ensureSchedules } from './schedules.js';
import { gatewayNodeOptions, predictTimeoutMs, scheduleSettings } from './settings.js';

const repoRoot = resolve(import.meta.dirname, '..');

export interface StackOptions {
  submissionsDir: string;
  /** Persistent state of the local services (Temporal's database, model logs). */
  dataDir: string;
  /** Run the local orchestrator (off when ORCHESTRATOR_URL points at someone else's). */
  orchestrator: boolean;
  /** The orchestrator's HTTP API port (0: any free one). */
  orchestratorHttpPort: number;
}

export interface RunningStack {
  urls: Record<string, string>;
  stop(): Promise<void>;
}

/** The live CrunchDAO price API if it answers now, else the seeded synthetic source; said plainly. */
async function choosePriceSource(settings: Settings, logger: Logger): Promise<string> {
  if (process.env.MARKET_DATA) return settings.MARKET_DATA;
  const live = settings.MARKET_DATA.split('|')[0]!.trim();
  try {
    const source = await createPriceSource(live, { http: { timeoutMs: 3_000 } });
    const now = Math.floor(Date.now() / 1000);
    const points = await source.fetch('BTC', now - 600, now);
    if (points.length > 0) {
      logger.info({ source: live }, `market data: the live CrunchDAO price source answers (${live})`);
      return live;
    }
  } catch (error) {
    logger.debug({ error: (error as Error).message }, 'the live price source did not answer');
  }
  logger.warn(
    'market data: the live CrunchDAO price source is not reachable from here, so prices come from the seeded ' +
      'synthetic source (synthetic:1). Set MARKET_DATA to choose a source.',
  );
  return 'synthetic:1';
}

function localTemporal(address: string): { ip: string; port: number } | undefined {
  const [host, port] = address.split(':');
  if (host !== '127.0.0.1' && host !== 'localhost') return undefined;
  return { ip: '127.0.0.1', port: Number(port) };
}

export async function startStack(options: StackOptions): Promise<RunningStack> {
  const logger = createLogger('start');
  const env = process.env;
  // The local stack plays the demo game unless told otherwise: ranked models within minutes.
  const gameId = env.GAME || 'condor-demo';
  let settings: Settings = readSettings({
    ...env,
    GAME: gameId,
    SCORE_EVERY_SECONDS: env.SCORE_EVERY_SECONDS || '30',
    // A checkpoint every 10 minutes, so the first one (and what the platform would settle) shows locally.
    CHECKPOINT_INTERVAL_SECONDS: env.CHECKPOINT_INTERVAL_SECONDS || '600',
  });
  const game = getGame(settings.GAME);
  // The game's slots, as the stack activates them, must leave a model time to answer one before the next.
  const deadline = checkCallDeadline(game.defaultPredictionConfigs, predictTimeoutMs(settings));
  if (!deadline.ok) throw new Error(`cannot start: ${deadline.message}`);
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const step of stops.reverse()) {
      try {
        await step();
      } catch (error) {
        logger.error({ error: (error as Error).message }, 'a part of the stack did not stop cleanly');
      }
    }
  };

  try {
    // Temporal: the dev server with its Web UI, its runs kept under the data folder.
    const local = localTemporal(settings.TEMPORAL_ADDRESS);
    let temporal: RunningDevServer | undefined;
    if (local) {
      temporal = await startDevServer({
        executable: resolve(repoRoot, '.venv', 'bin', 'temporal'),
        dataDir: resolve(options.dataDir, 'temporal'),
        ip: local.ip,
        port: local.port,
        uiPort: settings.TEMPORAL_UI_PORT,
        namespace: settings.TEMPORAL_NAMESPACE,
        logger,
      });
      stops.push(() => temporal!.stop());
    }

    // PostgreSQL: DATABASE_URL, the machine's server or an embedded one; created and migrated; the demo
    // game's prediction configs made the active ones.
    const database = await chooseDatabase(settings.DATABASE_URL, options.dataDir, logger);
    stops.push(() => database.stop());
    settings = { ...settings, DATABASE_URL: database.url };
    const db = await openDatabase(settings, logger, 2);
    stops.push(() => db.end());
    await activateGame(db, game, logger);

    // The local orchestrator: each example submission as a model process, announced over WebSocket.
    let orchestratorUrl = settings.ORCHESTRATOR_URL;
    let orchestrator: Orchestrator | undefined;
    if (options.orchestrator) {
      const port = Number(new URL(settings.ORCHESTRATOR_URL).port || 9091);
      orchestrator = new Orchestrator({
        submissionsDir: options.submissionsDir,
        crunchId: game.crunchId,
        port,
        httpPort: options.orchestratorHttpPort,
        stateDir: resolve(options.dataDir, 'orchestrator'),
      });
      await orchestrator.start();
      stops.push(() => orchestrator!.stop());
      orchestratorUrl = orchestrator.discoveryUrl();
    }

    // Every worker in this process, then the schedules that feed them.
    const marketData = await choosePriceSource(settings, logger);
    const workerSettings: Settings = { ...settings, ORCHESTRATOR_URL: orchestratorUrl, MARKET_DATA: marketData };
    const workers = await runWorkers(allQueues, workerSettings);
    stops.push(() => workers.stop());
    const client = await connectClient(temporalOptions(settings));
    stops.push(() => client.connection.close());
    await ensureSchedules(client, scheduleSettings(settings), logger);

    // The report gateway, read-only, on its own pool.
    const health = temporalHealthCheck(temporalOptions(settings));
    stops.push(() => health.close());
    const gateway = await buildGateway({
      db: databaseUrl(settings),
      temporal: health,
      dashboard: {
        ...(temporal?.uiUrl ? { temporalUiUrl: temporal.uiUrl } : {}),
        temporalNamespace: settings.TEMPORAL_NAMESPACE,
      },
      logger: createLogger('gateway'),
      ...gatewayNodeOptions(settings),
    });
    await gateway.listen({ host: settings.GATEWAY_HOST, port: settings.GATEWAY_PORT });
    stops.push(() => gateway.close());
    const gatewayUrl = `http://${settings.GATEWAY_HOST}:${settings.GATEWAY_PORT}`;

    const urls: Record<string, string> = {
      dashboard: `${gatewayUrl}/`,
      leaderboard: `${gatewayUrl}/reports/leaderboard`,
      'report API docs': `${gatewayUrl}/docs`,
      'Temporal Web UI': temporal?.uiUrl ?? `(your Temporal at ${settings.TEMPORAL_ADDRESS})`,
      'predict slots': `${temporal?.uiUrl ?? ''}/namespaces/${settings.TEMPORAL_NAMESPACE}/schedules/predict-slots`,
      'emission checkpoints': `${temporal?.uiUrl ?? ''}/namespaces/${settings.TEMPORAL_NAMESPACE}/schedules/emission-checkpoint`,
      database: `${redact(databaseUrl(settings))} (${database.source})`,
      'model discovery': orchestratorUrl,
    };
    if (orchestrator?.httpPort) urls['models (orchestrator API)'] = `http://127.0.0.1:${orchestrator.httpPort}/models`;
    return { urls, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
