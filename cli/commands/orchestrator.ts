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
  advertiseHost?: string;
  trustedSubmissions?: boolean;
  resources?: string[];
  allowRequirementOptions?: boolean;
  memoryLimit?: number | null;
  cpuLimit?: number | null;
  processLimit?: number | null;
  scratchMib?: number;
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
    .option(
      '--advertise-host <address>',
      'address announced for the models, reachable by model-calls workers on other hosts (their ports then listen on 0.0.0.0)',
    )
    .option(
      '--trusted-submissions',
      'run the submissions WITHOUT a sandbox (only for code you trust, or where bubblewrap cannot run)',
    )
    .option(
      '--resources <dir>',
      'a folder every model may read (mounted read-only at the same path); repeatable',
      (value: string, previous: string[] = []) => [...previous, resolve(value)],
    )
    .option(
      '--allow-requirement-options',
      'accept pip options, paths and URLs in requirements.txt (refused by default)',
    )
    .option('--crunch-id <id>', 'crunch id of models the models file does not place', 'condorgame')
    .option('--cache-dir <dir>', 'where Python environments are cached (default .cache/envs in the repository)')
    .option('--state-dir <dir>', 'per-model logs, homes, quarantines (default .cache/orchestrator)')
    .option('--python <interpreter>', 'Python for new environments (default $COORDINATOR_PYTHON, else newest >= 3.12)')
    .option('--memory-limit <MiB>', 'address-space limit per model, or "none" (default 4096)', limit(1024 ** 2))
    .option('--cpu-limit <seconds>', 'CPU-time limit per model process, or "none" (default 3600)', limit(1))
    .option('--process-limit <count>', 'processes and threads per sandboxed model, or "none" (default 256)', limit(1))
    .option(
      '--scratch-mib <MiB>',
      'size of a sandboxed model’s private home and of its tmp (default 256)',
      integer('--scratch-mib', 1),
    )
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
      const stop = (why: string): void => {
        if (stopping) return;
        stopping = true;
        log.info({ why }, `${why.startsWith('SIG') ? `received ${why}` : why}: stopping every model`);
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
      // `npx` runs us under npm and `sh -c`, which may die on SIGTERM without passing it on: a parent
      // that is gone is a stop too (the models' sandboxes die with us in any case: --die-with-parent).
      const parent = process.ppid;
      setInterval(() => {
        if (process.ppid !== parent) stop('the parent process exited');
      }, 500).unref();
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
  if (options.processLimit !== undefined) limits.processes = options.processLimit;
  if (options.scratchMib !== undefined) limits.scratchBytes = options.scratchMib * 1024 ** 2;
  const python = options.python ?? process.env.COORDINATOR_PYTHON;
  return {
    submissionsDir: resolve(options.submissions),
    ...(options.models ? { modelsFile: resolve(options.models) } : {}),
    crunchId: options.crunchId,
    host: options.host,
    ...(options.advertiseHost ? { advertiseHost: options.advertiseHost } : {}),
    ...(options.trustedSubmissions ? { trustedSubmissions: true } : {}),
    ...(options.resources ? { resources: options.resources } : {}),
    ...(options.allowRequirementOptions ? { allowRequirementOptions: true } : {}),
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
