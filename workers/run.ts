import { DefaultLogger, type LogLevel, Runtime, type Worker, type WorkerInterceptors } from '@temporalio/worker';
import { readSettings, type Settings, temporalOptions } from '../lib/config/index.js';
import type { DatabasePool } from '../lib/db/index.js';
import { createLogger, watchEventLoop } from '../lib/log/index.js';
import type { ModelRunnerClient } from '../lib/model-runner/index.js';
import { connectWorker, type TaskQueueName, taskQueues } from '../lib/temporal/index.js';
import { activityInterceptors } from './activity-context.js';
import { createCoordinatorWorker } from './coordinator.js';
import { type CoordinatorMetrics, createCoordinatorMetrics } from './coordinator-metrics.js';
import { freeLoopbackPort, serveWorkerMetrics, type WorkerMetricsServer } from './metrics-server.js';
import { createModelCallsWorker } from './model-calls.js';
import { createPostgresWorker } from './postgres.js';
import { gameOf, ingestionSettingsOf, openDatabase, openModelClient, openPriceSource } from './resources.js';
import { createScoringWorker } from './scoring.js';
import { type Tracing, tracingFromEnvironment } from './tracing.js';

export const allQueues: TaskQueueName[] = Object.values(taskQueues);

let runtimeInstalled = false;
/** The SDK core's own Prometheus endpoint, when this process's runtime was installed with one. */
let sdkMetricsUrl: string | undefined;

/**
 * Routes the Temporal SDK's own logs (bundling, worker states) into our structured log at warn and above,
 * and, when worker metrics are asked for, has the SDK's core export its metrics on an internal port.
 */
async function installRuntime(withMetrics: boolean): Promise<void> {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const metricsPort = withMetrics ? await freeLoopbackPort() : undefined;
  const sdk = createLogger('temporal-sdk');
  const levels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
    TRACE: 'trace',
    DEBUG: 'debug',
    INFO: 'info',
    WARN: 'warn',
    ERROR: 'error',
  };
  try {
    Runtime.install({
      ...(metricsPort
        ? {
            telemetryOptions: {
              metrics: {
                prometheus: {
                  bindAddress: `127.0.0.1:${metricsPort}`,
                  countersTotalSuffix: true,
                  unitSuffix: true,
                  useSecondsForDurations: true,
                },
              },
            },
          }
        : {}),
      logger: new DefaultLogger('WARN', (entry) => {
        // A worker serving only workflows (or only activities) is how the queues are split, not a problem.
        const level = /^No (activities|workflows) registered/.test(entry.message) ? 'debug' : levels[entry.level];
        sdk[level]({ ...entry.meta }, entry.message);
      }),
    });
    if (metricsPort) sdkMetricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  } catch {
    // Someone (a test harness) installed it first: theirs stands.
  }
}

/** Every worker's interceptors: tracing (when on) first, then the activity log context and metrics. */
export function workerInterceptors(metrics: CoordinatorMetrics | undefined, tracing?: Tracing): WorkerInterceptors {
  return {
    activity: [...(tracing?.activity ?? []), ...activityInterceptors(metrics)],
    ...(tracing ? { workflowModules: tracing.workflowModules } : {}),
  };
}

let tracing: Tracing | undefined;
let tracingChecked = false;

export interface RunningWorkers {
  /** Resolves when every worker has stopped (after stop(), or when one fails). */
  done: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the workers of the given task queues in this process, each with the resources it needs
 * (a database pool, a model client, a price source), and releases them when the workers stop.
 */
export async function runWorkers(
  queues: readonly TaskQueueName[],
  settings: Settings = readSettings(),
): Promise<RunningWorkers> {
  const withMetrics = settings.WORKER_METRICS_PORT !== undefined;
  await installRuntime(withMetrics);
  const logger = createLogger('workers');
  if (!tracingChecked) {
    tracingChecked = true;
    tracing = tracingFromEnvironment('crunch-coordinator-worker');
    if (tracing) logger.info({ endpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT }, 'exporting traces over OTLP');
  }
  const temporal = temporalOptions(settings);
  const connection = await connectWorker(temporal);
  let db: DatabasePool | undefined;
  let client: ModelRunnerClient | undefined;
  let metrics: CoordinatorMetrics | undefined;
  let metricsServer: WorkerMetricsServer | undefined;
  const workers: Worker[] = [];
  const release = async () => {
    await metricsServer?.close();
    metrics?.stop();
    await client?.close();
    await db?.end();
    await connection.close();
  };
  try {
    const needsDb = queues.some((queue) => queue !== taskQueues.coordinator);
    if (needsDb) db = await openDatabase(settings, logger, 10, { traced: tracing !== undefined });
    metrics = createCoordinatorMetrics({ ...(db ? { db } : {}), logger });
    if (withMetrics) {
      metricsServer = await serveWorkerMetrics({
        host: settings.WORKER_METRICS_HOST,
        port: settings.WORKER_METRICS_PORT!,
        registry: metrics.registry,
        ...(sdkMetricsUrl ? { sdkMetricsUrl } : {}),
        logger,
      });
      logger.info({ url: metricsServer.url }, `worker metrics at ${metricsServer.url}`);
    }
    const base = {
      connection,
      namespace: temporal.namespace,
      interceptors: workerInterceptors(metrics, tracing),
      ...(tracing ? { sinks: tracing.sinks } : {}),
    };
    for (const queue of queues) {
      switch (queue) {
        case taskQueues.coordinator:
          workers.push(
            await createCoordinatorWorker({
              ...base,
              ...(settings.WORKFLOW_BUNDLE ? { workflowBundlePath: settings.WORKFLOW_BUNDLE } : {}),
            }),
          );
          break;
        case taskQueues.postgres:
          workers.push(
            await createPostgresWorker({
              ...base,
              db: db!,
              game: gameOf(settings),
              source: await openPriceSource(settings),
              ingestion: ingestionSettingsOf(settings),
              logger,
            }),
          );
          break;
        case taskQueues.modelCalls:
          client = await openModelClient(settings);
          workers.push(await createModelCallsWorker({ ...base, client, db: db!, game: gameOf(settings), logger }));
          break;
        case taskQueues.scoring:
          workers.push(await createScoringWorker({ ...base, db: db!, game: gameOf(settings), logger }));
          break;
      }
    }
  } catch (error) {
    await release();
    throw error;
  }
  logger.info({ queues, temporal: temporal.address }, `workers running for ${queues.join(', ')}`);
  // What every deadline and heartbeat in this process waits at worst, once a minute in the log.
  const eventLoop = watchEventLoop(logger);
  const done = Promise.all(workers.map((worker) => worker.run())).then(async () => {
    eventLoop.stop();
    await release();
    await tracing?.shutdown();
    logger.info('workers stopped');
  });
  return {
    done,
    async stop() {
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}
