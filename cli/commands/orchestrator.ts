import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { createLogger } from '../../lib/log/index.js';
import { buildEnvironment, Orchestrator, type OrchestratorOptions } from '../../orchestrator/index.js';
import { integer } from '../options.js';

const log = createLogger('orchestrator');

/** A limit in the given unit, or `none` to lift it. */
const limit =
  (unit: number) =>
  (value: string): number | null => {
    if (value === 'none') return null;
    const parsed = Number(value);
    if (!(parsed > 0)) throw new InvalidArgumentError('must be a positive number or "none"');
    return parsed * unit;
  };

interface CliOptions {
  submissions: string;
  models?: string;
  port: number;
  httpPort: number;
  host: string;
  crunchId: string;
  cacheDir?: string;
  stateDir?: string;
  python?: string;
  memoryLimit?: number | null;
  cpuLimit?: number | null;
  logMaxMib?: number;
  watchInterval: number;
}

export function register(program: Command): void {
  program
    .command('orchestrator')
    .description(
      'run participant submissions as local model-runner processes, announced over CrunchDAO’s discovery WebSocket',
    )
    .requiredOption('--submissions <dir>', 'one folder per submission: <id>/main.py, <id>/requirements.txt')
    .option('--models <file>', 'YAML models file (models: [{id, submission_id, desired_state, ...}])')
    .option('--port <port>', 'discovery WebSocket port', integer('--port', 0, 65535), 9091)
    .option(
      '--http-port <port>',
      'HTTP API port (GET /models, /models/{id}/logs)',
      integer('--http-port', 0, 65535),
      8001,
    )
    .option('--host <address>', 'address the WebSocket and HTTP API listen on', '127.0.0.1')
    .option('--crunch-id <id>', 'crunch id of models the models file does not place', 'condorgame')
    .option('--cache-dir <dir>', 'where Python environments are cached (default .cache/envs in the repository)')
    .option('--state-dir <dir>', 'per-model logs, homes, quarantines (default .cache/orchestrator)')
    .option('--python <interpreter>', 'Python for new environments (default $COORDINATOR_PYTHON, else newest >= 3.12)')
    .option('--memory-limit <MiB>', 'address-space limit per model, or "none" (default 4096)', limit(1024 ** 2))
    .option('--cpu-limit <seconds>', 'CPU-time limit per model process, or "none" (default 3600)', limit(1))
    .option('--log-max-mib <MiB>', 'size at which a model log rotates (default 10)', integer('--log-max-mib', 1))
    .option(
      '--watch-interval <ms>',
      'rescan period of submissions and models file',
      integer('--watch-interval', 100),
      2000,
    )
    .action(async (options: CliOptions) => {
      const orchestrator = new Orchestrator(toOrchestratorOptions(options));
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, `received ${signal}: stopping every model`);
        orchestrator.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            log.error({ error: (error as Error).message }, 'the orchestrator did not stop cleanly');
            process.exit(1);
          },
        );
      };
      // `on`, not `once`: a second signal during shutdown must not kill us before the models are stopped.
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
      try {
        await orchestrator.start();
      } catch (error) {
        log.error({ error: (error as Error).message }, `the orchestrator could not start: ${(error as Error).message}`);
        await orchestrator.stop().catch(() => {});
        process.exit(1);
      }
      const api =
        orchestrator.httpPort === null ? '' : `, models at http://${options.host}:${orchestrator.httpPort}/models`;
      process.stderr.write(`orchestrator: discovery on ${orchestrator.discoveryUrl()}${api}\n`);
    });
}

function toOrchestratorOptions(options: CliOptions): OrchestratorOptions {
  const limits: OrchestratorOptions['limits'] = {};
  if (options.memoryLimit !== undefined) limits.memoryBytes = options.memoryLimit;
  if (options.cpuLimit !== undefined) limits.cpuSeconds = options.cpuLimit;
  const python = options.python ?? process.env.COORDINATOR_PYTHON;
  return {
    submissionsDir: resolve(options.submissions),
    ...(options.models ? { modelsFile: resolve(options.models) } : {}),
    crunchId: options.crunchId,
    host: options.host,
    port: options.port,
    httpPort: options.httpPort,
    ...(options.cacheDir ? { cacheDir: resolve(options.cacheDir) } : {}),
    ...(options.stateDir ? { stateDir: resolve(options.stateDir) } : {}),
    ...(python ? { python } : {}),
    buildEnv: buildEnvironment(process.env),
    limits,
    ...(options.logMaxMib ? { logMaxBytes: options.logMaxMib * 1024 ** 2 } : {}),
    watchIntervalMs: options.watchInterval,
  };
}
