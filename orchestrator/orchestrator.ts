import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createLogger } from '../lib/log/index.js';
import type { CappedLog } from './capped-log.js';
import { DiscoveryServer } from './discovery-server.js';
import { EnvironmentCache } from './environments.js';
import { buildHttpApi, type LogKind } from './http-api.js';
import { ModelSupervisor, type RestartPolicy } from './model-supervisor.js';
import { desiredModels, type ModelsFileEntry, readModelsFile } from './models-file.js';
import { findPython, type PythonInterpreter } from './python.js';
import { DEFAULT_LIMITS, type ResourceLimits } from './runner-process.js';
import { cgroupsV2Status, detectIsolation, type Isolation, sandboxUid } from './sandbox.js';
import { FileHashCache, type Submission, scanSubmissions } from './submissions.js';
import type { FailureReport, ModelSpec, ModelState, ModelStatus } from './types.js';

const log = createLogger('orchestrator');

const repoRoot = resolve(import.meta.dirname, '..');

export interface OrchestratorOptions {
  /** One folder per submission: `<id>/main.py`, `<id>/requirements.txt`, anything else it needs. */
  submissionsDir: string;
  /** YAML `models:` list (docs/protocol.md#the-local-orchestrator); without it each submission folder is one model named after it. */
  modelsFile?: string;
  /** Crunch id of models the models file does not place (default "condorgame"). */
  crunchId?: string;
  /** Address of the discovery WebSocket and of the HTTP API (default 127.0.0.1). */
  host?: string;
  /** Discovery WebSocket port (default 9091; 0 picks a free one). */
  port?: number;
  /** HTTP API port (default 8001; 0 picks a free one; null serves no API). */
  httpPort?: number | null;
  /** Address the models' ports listen on (default 127.0.0.1, or 0.0.0.0 with an `advertiseHost`). */
  modelHost?: string;
  /**
   * Address announced to coordinators for every model (default the models' listen address): a name
   * or IP that model-calls workers on other hosts can reach.
   */
  advertiseHost?: string;
  /**
   * How submissions are isolated (default: bubblewrap if it works here). Without isolation they are
   * refused unless `trustedSubmissions`.
   */
  isolation?: Isolation;
  /** The operator vouches for the submissions: run them without a sandbox. */
  trustedSubmissions?: boolean;
  /** Folders every sandboxed model may read, mounted read-only at the same path (shared data). */
  resources?: string[];
  /** Accept pip options, paths and URLs in requirements.txt (refused by default: builds could reach anything). */
  allowRequirementOptions?: boolean;
  /** Where environments are cached (default `.cache/envs` under the repository). */
  cacheDir?: string;
  /** Per-model logs, homes and quarantines (default `.cache/orchestrator` under the repository). */
  stateDir?: string;
  /** Interpreter for new environments: a path or a probed interpreter (default: newest >= 3.12 found). */
  python?: string | PythonInterpreter;
  /** Environment pip runs in (default: ours, filtered to pip's configuration; see `buildEnvironment`). */
  buildEnv?: NodeJS.ProcessEnv;
  buildTimeoutMs?: number;
  limits?: Partial<ResourceLimits>;
  /** Cap of each log file before it rotates (default 10 MiB). */
  logMaxBytes?: number;
  restart?: Partial<RestartPolicy>;
  /** Time a new process gets to answer its health check SERVING (default 60 s). */
  healthTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL when stopping a model (default 5 s). */
  stopGraceMs?: number;
  /** How often the submissions folder and the models file are rescanned (default 2 s). */
  watchIntervalMs?: number;
}

export interface OrchestratorEvents {
  /** A model's status changed (phase, deployment, error...). */
  model: [ModelStatus];
  /** A frame element was published to a crunch's discovery clients. */
  announce: [string, ModelState];
  /** Something the coordinator should know that stopped nothing (e.g. an invalid models file). */
  warning: [string];
}

export const DEFAULT_RESTART: RestartPolicy = { initialDelayMs: 1_000, maxDelayMs: 60_000, stableAfterMs: 60_000 };

/**
 * The local orchestrator: runs each submission as a `model-runner` process in its own cached Python
 * environment and announces them over CrunchDAO's discovery WebSocket, with an HTTP API for states
 * and logs. `start()` then `stop()`; everything else follows the submissions folder and models file.
 */
export class Orchestrator extends EventEmitter<OrchestratorEvents> {
  private readonly options: OrchestratorOptions;
  private readonly supervisors = new Map<string, ModelSupervisor>();
  private readonly seen = new Map<string, string>();
  private readonly removals = new Set<Promise<void>>();
  private readonly files = new FileHashCache();
  private environments: EnvironmentCache | undefined;
  private discovery: DiscoveryServer | undefined;
  private http: FastifyInstance | undefined;
  private timer: NodeJS.Timeout | undefined;
  private modelsEntries: ModelsFileEntry[] | undefined;
  private submissions = new Map<string, Submission>();
  private lastWarning = '';
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private boundPort = 0;
  private boundHttpPort: number | null = null;
  private isolation: Isolation = { kind: 'none', reason: 'not started' };
  private pythonHome = '/usr';

  constructor(options: OrchestratorOptions) {
    super();
    this.options = options;
  }

  get crunchId(): string {
    return this.options.crunchId ?? 'condorgame';
  }

  get host(): string {
    return this.options.host ?? '127.0.0.1';
  }

  /** The discovery WebSocket port, once started. */
  get port(): number {
    return this.boundPort;
  }

  /** The HTTP API port, once started (null when it is off). */
  get httpPort(): number | null {
    return this.boundHttpPort;
  }

  /** `ws://HOST:PORT/{crunchId}` for coordinators. */
  discoveryUrl(crunchId = this.crunchId): string {
    return `ws://${this.host}:${this.boundPort}/${encodeURIComponent(crunchId)}`;
  }

  /** Builds nothing yet: listens, then models start in the background (see the 'model' event). */
  start(): Promise<void> {
    if (this.starting) return Promise.reject(new Error('the orchestrator is already started'));
    this.starting = this.startServing();
    return this.starting;
  }

  private async startServing(): Promise<void> {
    const options = this.options;
    if (!existsSync(options.submissionsDir)) {
      throw new Error(`the submissions directory ${options.submissionsDir} does not exist`);
    }
    if (options.modelsFile) this.modelsEntries = readModelsFile(options.modelsFile);
    const python =
      typeof options.python === 'object' ? options.python : await findPython({ executable: options.python });
    log.info({ python: python.realPath, version: python.version }, `model environments use Python ${python.version}`);
    this.pythonHome = resolve(dirname(python.realPath), '..');
    this.isolation = this.options.trustedSubmissions
      ? { kind: 'none', reason: 'submissions are marked trusted' }
      : (options.isolation ?? detectIsolation());
    this.sayIsolation();
    const cacheDir = options.cacheDir ?? join(repoRoot, '.cache', 'envs');
    const isolation = this.isolation;
    this.environments = new EnvironmentCache({
      cacheDir,
      python,
      ...(options.buildEnv ? { env: options.buildEnv } : {}),
      ...(options.buildTimeoutMs ? { buildTimeoutMs: options.buildTimeoutMs } : {}),
      ...(isolation.kind === 'bubblewrap'
        ? {
            sandbox: {
              isolation,
              uid: sandboxUid(`${cacheDir}/builds`),
              pythonHome: this.pythonHome,
              // pip unpacks wheels (numpy, scipy: ~100 MiB) in its home and tmp.
              scratchBytes: Math.max(this.limits().scratchBytes, 2 * 1024 ** 3),
            },
          }
        : {}),
    });
    this.discovery = new DiscoveryServer({
      host: this.host,
      port: options.port ?? 9091,
      initialStates: (crunchId) => this.runningStates(crunchId),
      onReport: (crunchId, report) => this.onReport(crunchId, report),
    });
    const httpPort = options.httpPort === undefined ? 8001 : options.httpPort;
    try {
      this.boundPort = await this.discovery.start().catch((error: Error) => {
        throw new Error(
          `the discovery WebSocket cannot listen on ${this.host}:${options.port ?? 9091}: ${error.message}`,
        );
      });
      if (httpPort !== null) {
        this.http = buildHttpApi({ models: () => this.models(), log: (id, kind) => this.log(id, kind) });
        await this.http.listen({ host: this.host, port: httpPort }).catch((error: Error) => {
          throw new Error(`the HTTP API cannot listen on ${this.host}:${httpPort}: ${error.message}`);
        });
        const address = this.http.server.address();
        this.boundHttpPort = typeof address === 'object' && address ? address.port : httpPort;
      }
    } catch (error) {
      // Nothing may keep listening after a failed start.
      await this.discovery.close().catch(() => {});
      await this.http?.close().catch(() => {});
      throw error;
    }
    log.info(
      { discovery: this.discoveryUrl(), http: this.boundHttpPort, submissions: options.submissionsDir },
      `orchestrator listening on ${this.discoveryUrl()}`,
    );
    if (this.stopping) return;
    this.reconcile();
    this.timer = setInterval(() => this.reconcile(), options.watchIntervalMs ?? 2_000);
  }

  private limits(): ResourceLimits {
    return { ...DEFAULT_LIMITS, ...this.options.limits };
  }

  /** One line on how submissions run, and one on their limits: what an operator must know at start. */
  private sayIsolation(): void {
    const isolation = this.isolation;
    const limits = this.limits();
    const mib = (bytes: number | null): string => (bytes === null ? 'none' : `${Math.round(bytes / 1024 ** 2)} MiB`);
    if (isolation.kind === 'bubblewrap') {
      log.info(
        { isolation: 'bubblewrap', bwrap: isolation.bwrap, asRoot: isolation.asRoot },
        `submissions run sandboxed by bubblewrap: own PID and network namespaces, ${isolation.asRoot ? 'a dedicated uid per model' : 'no privilege'}, read-only files, a private ${mib(limits.scratchBytes)} home and tmp`,
      );
    } else if (this.options.trustedSubmissions) {
      log.warn({ isolation: 'none' }, 'submissions are marked trusted: they run WITHOUT a sandbox, as this user');
    } else {
      log.error(
        { isolation: 'none', reason: isolation.reason },
        `no isolation available (${isolation.reason}): submissions will not be started unless marked trusted (--trusted-submissions)`,
      );
    }
    const processes =
      isolation.kind === 'bubblewrap' && isolation.asRoot && limits.processes !== null
        ? `, ${limits.processes} processes`
        : '';
    log.info(
      { limits, cgroups: cgroupsV2Status() },
      `model limits by rlimits (${cgroupsV2Status()}): address space ${mib(limits.memoryBytes)}, CPU time ${limits.cpuSeconds ?? 'none'} s, file size ${mib(limits.fileSizeBytes)}${processes} per model; CPU priority nice ${limits.nice} below the coordinator`,
    );
  }

  /** Stops every model process (announcing STOPPED), kills builds in progress, closes the servers. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  models(): ModelStatus[] {
    return [...this.supervisors.values()]
      .map((supervisor) => supervisor.status())
      .sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  model(id: string): ModelStatus | undefined {
    return this.supervisors.get(id)?.status();
  }

  log(id: string, kind: LogKind): CappedLog | undefined {
    const supervisor = this.supervisors.get(id);
    return kind === 'build' ? supervisor?.buildLog : supervisor?.runnerLog;
  }

  /** What a discovery client of this crunch gets in `init`: the deployments running now. */
  runningStates(crunchId = this.crunchId): ModelState[] {
    const states: ModelState[] = [];
    for (const supervisor of this.supervisors.values()) {
      const state = supervisor.crunchId === crunchId ? supervisor.announced() : undefined;
      if (state) states.push(state);
    }
    return states;
  }

  /** Rescans now instead of at the next interval. */
  rescan(): void {
    this.reconcile();
  }

  private reconcile(): void {
    if (this.stopping || !this.environments) return;
    try {
      this.submissions = scanSubmissions(this.options.submissionsDir, this.files);
      if (this.options.modelsFile) this.modelsEntries = readModelsFile(this.options.modelsFile);
    } catch (error) {
      this.warn(`${(error as Error).message}; keeping the models as they were`);
      return;
    }
    this.lastWarning = '';
    const specs = desiredModels(this.modelsEntries, this.submissions, this.crunchId);
    const wanted = new Set(specs.map((spec) => spec.id));
    for (const spec of specs) this.apply(spec);
    for (const [id, supervisor] of this.supervisors) {
      if (wanted.has(id)) continue;
      log.info({ model: id }, `model ${id} is no longer wanted: stopping it`);
      this.supervisors.delete(id);
      this.seen.delete(id);
      const removal = supervisor.remove().finally(() => this.removals.delete(removal));
      this.removals.add(removal);
    }
  }

  private apply(spec: ModelSpec): void {
    const submission = this.submissions.get(spec.submissionId);
    const signature = JSON.stringify([spec, submission?.fingerprint, submission?.hasMain, submission?.requirements]);
    const supervisor = this.supervisors.get(spec.id);
    if (supervisor && this.seen.get(spec.id) === signature) return;
    this.seen.set(spec.id, signature);
    if (supervisor) {
      supervisor.update(spec, submission);
      return;
    }
    const environments = this.environments;
    if (!environments) return;
    const options = this.options;
    this.supervisors.set(
      spec.id,
      new ModelSupervisor(spec, submission, {
        environments,
        modelsDir: join(options.stateDir ?? join(repoRoot, '.cache', 'orchestrator'), 'models'),
        host: options.modelHost ?? (options.advertiseHost ? '0.0.0.0' : '127.0.0.1'),
        advertiseHost: options.advertiseHost ?? options.modelHost ?? '127.0.0.1',
        isolation: this.isolation,
        trusted: options.trustedSubmissions ?? false,
        resources: options.resources ?? [],
        pythonHome: this.pythonHome,
        allowRequirementOptions: options.allowRequirementOptions ?? false,
        limits: this.limits(),
        logMaxBytes: options.logMaxBytes ?? 10 * 1024 * 1024,
        restart: { ...DEFAULT_RESTART, ...options.restart },
        healthTimeoutMs: options.healthTimeoutMs ?? 60_000,
        stopGraceMs: options.stopGraceMs ?? 5_000,
        announce: (crunchId, state) => {
          this.discovery?.publish(crunchId, state);
          this.emit('announce', crunchId, state);
        },
        changed: (status) => this.emit('model', status),
      }),
    );
  }

  private onReport(crunchId: string, report: FailureReport): void {
    const supervisor = this.supervisors.get(report.model_id);
    if (!supervisor || supervisor.crunchId !== crunchId) {
      log.warn(
        { crunchId, report },
        `failure report for unknown model ${report.model_id} in crunch ${crunchId}: ignored`,
      );
      return;
    }
    supervisor.reportFailure(report);
  }

  private warn(message: string): void {
    if (message === this.lastWarning) return;
    this.lastWarning = message;
    log.warn(message);
    this.emit('warning', message);
  }

  private async shutdown(): Promise<void> {
    // A stop during start waits for the servers to exist, so that it closes them.
    await this.starting?.catch(() => {});
    clearInterval(this.timer);
    this.environments?.close();
    const supervisors = [...this.supervisors.values()];
    this.supervisors.clear();
    await Promise.all([...supervisors.map((supervisor) => supervisor.remove()), ...this.removals]);
    await this.discovery?.close();
    await this.http?.close();
    log.info('orchestrator stopped: every model process is stopped');
  }
}
