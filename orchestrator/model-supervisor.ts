import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../lib/log/index.js';
import { capModelText } from '../lib/model-runner/index.js';
import { CappedLog } from './capped-log.js';
import { deploymentId } from './deployment-id.js';
import { type Environment, EnvironmentBuildError, type EnvironmentCache } from './environments.js';
import { waitServing } from './health-check.js';
import { forgetProcess, killLeftovers, rememberProcess } from './leftovers.js';
import { freePort } from './ports.js';
import { refusedRequirement } from './requirements-check.js';
import {
  describeExit,
  modelEnvironment,
  type ResourceLimits,
  type RunnerExit,
  RunnerProcess,
} from './runner-process.js';
import { type Isolation, SANDBOX_HOME, SANDBOX_RUN, SANDBOX_TMP, sandboxCommand, sandboxUid } from './sandbox.js';
import { SocketProxy } from './socket-proxy.js';
import type { Submission } from './submissions.js';
import type {
  AnnouncedState,
  FailureReport,
  ModelInfos,
  ModelPhase,
  ModelSpec,
  ModelState,
  ModelStatus,
} from './types.js';

const log = createLogger('orchestrator');

export interface RestartPolicy {
  /** Wait before the first restart after a crash. */
  initialDelayMs: number;
  /** The wait doubles on each crash in a row up to this cap. */
  maxDelayMs: number;
  /** A process that served this long counts as stable: the next crash waits `initialDelayMs` again. */
  stableAfterMs: number;
}

/** What a supervisor shares with the orchestrator that owns it. */
export interface SupervisorContext {
  environments: EnvironmentCache;
  modelsDir: string;
  /** Address the models' ports listen on. */
  host: string;
  /** Address announced to coordinators (the bind address unless the operator names another). */
  advertiseHost: string;
  isolation: Isolation;
  /** Run models even without isolation (the operator vouches for the code). */
  trusted: boolean;
  /** Folders every sandboxed model may read (mounted read-only at the same path). */
  resources: string[];
  /** The Python install environments link to, mounted read-only in sandboxes. */
  pythonHome: string;
  /** Accept options, paths and URLs in requirements.txt (refused by default). */
  allowRequirementOptions: boolean;
  limits: ResourceLimits;
  logMaxBytes: number;
  restart: RestartPolicy;
  healthTimeoutMs: number;
  stopGraceMs: number;
  announce(crunchId: string, state: ModelState): void;
  changed(status: ModelStatus): void;
}

interface Deployment {
  id: string;
  key: string;
  crunchId: string;
  infos: ModelInfos;
  process: RunnerProcess;
  port: number;
  startedAt: number;
  stopping: boolean;
}

class SupersededError extends Error {}

/**
 * Keeps one model as its spec asks: builds its environment, runs its model-runner process, announces
 * it, redeploys it when its submission changes (the new deployment RUNNING before the old STOPPED),
 * restarts it with backoff when it dies, and quarantines it on a failure report. All changes go
 * through one serial loop (`converge`), so events arriving mid-build are handled after it, in order.
 */
export class ModelSupervisor {
  readonly id: string;
  readonly buildLog: CappedLog;
  readonly runnerLog: CappedLog;
  private spec: ModelSpec;
  private submission: Submission | undefined;
  private readonly context: SupervisorContext;
  private readonly home: string;
  /** Quarantines survive a restart of the orchestrator, as CrunchDAO's keeps them in its database. */
  private readonly quarantineFile: string;
  private readonly pidsDir: string;
  /** Holds each sandboxed deployment's socket folder (`run-*`). */
  private readonly modelDir: string;
  private phase: ModelPhase = 'pending';
  private lastError: string | null = null;
  private restarts = 0;
  private environment: Environment | undefined;
  private current: Deployment | undefined;
  private lastDeploymentId: string | undefined;
  private quarantine: { fingerprint: string; failureCode: string; reason: string | null } | undefined;
  private failedKey: string | undefined;
  /** Key of the last deployment attempted: a crash restart of the same key waits its backoff. */
  private activeKey: string | undefined;
  private redeployRequested = false;
  private restartNotBefore = 0;
  private restartDelayMs: number;
  private restartTimer: NodeJS.Timeout | undefined;
  private removed = false;
  private dirty = false;
  private loop: Promise<void> | undefined;

  constructor(spec: ModelSpec, submission: Submission | undefined, context: SupervisorContext) {
    this.id = spec.id;
    this.spec = spec;
    this.submission = submission;
    this.context = context;
    const dir = join(context.modelsDir, spec.id);
    this.home = join(dir, 'home');
    mkdirSync(this.home, { recursive: true });
    this.buildLog = new CappedLog(join(dir, 'build.log'), { maxBytes: context.logMaxBytes });
    this.runnerLog = new CappedLog(join(dir, 'runner.log'), { maxBytes: context.logMaxBytes });
    this.restartDelayMs = context.restart.initialDelayMs;
    this.quarantineFile = join(dir, 'quarantine.json');
    this.pidsDir = join(dir, 'pids');
    this.modelDir = dir;
    // Socket folders of an orchestrator that was killed: their sandboxes died with it.
    for (const name of readdirSync(dir))
      if (name.startsWith('run-')) rmSync(join(dir, name), { recursive: true, force: true });
    const leftovers = killLeftovers(this.pidsDir);
    if (leftovers.length > 0) {
      log.warn(
        { model: this.id, pids: leftovers },
        `stopped ${leftovers.length} process(es) of model ${this.id} left by an earlier orchestrator`,
      );
    }
    this.quarantine = readQuarantine(this.quarantineFile);
    this.kick();
  }

  /** The spec or submission may have changed: converge to it. */
  update(spec: ModelSpec, submission: Submission | undefined): void {
    this.spec = spec;
    this.submission = submission;
    this.kick();
  }

  /** A coordinator reported this model as failing. Returns false when the report does not apply. */
  reportFailure(report: FailureReport): boolean {
    const current = this.current;
    if (!current || this.removed) {
      log.warn({ model: this.id, report }, `failure report for model ${this.id}, which is not running: ignored`);
      return false;
    }
    if (report.ip !== undefined && report.ip !== this.context.advertiseHost) {
      log.warn({ model: this.id, report }, `failure report for model ${this.id} at another address: ignored`);
      return false;
    }
    // Anyone on the WebSocket may send it: kept bounded in the quarantine file and the logs.
    const reason = report.failure_reason ? capModelText(report.failure_reason) : null;
    if (report.failure_code === 'CONNECTION_FAILED') {
      // A coordinator that could not connect drops the model; a fresh deployment gives it another chance.
      log.warn({ model: this.id, reason }, `a coordinator could not connect to model ${this.id}: redeploying it`);
      this.runnerLog.line(`a coordinator reported CONNECTION_FAILED (${reason ?? 'no reason given'}): redeploying`);
      this.redeployRequested = true;
    } else {
      const fingerprint = this.submission?.fingerprint ?? '';
      this.quarantine = { fingerprint, failureCode: report.failure_code, reason };
      writeFileSync(this.quarantineFile, `${JSON.stringify(this.quarantine)}\n`);
      log.warn(
        { model: this.id, failureCode: report.failure_code, reason },
        `model ${this.id} quarantined after a ${report.failure_code} report: it stays stopped until its submission changes`,
      );
      this.runnerLog.line(`quarantined after a ${report.failure_code} report (${reason ?? 'no reason given'})`);
    }
    this.kick();
    return true;
  }

  /** Stops the model for good (removed from the spec, or the orchestrator stops). */
  async remove(): Promise<void> {
    this.removed = true;
    this.kick();
    while (this.loop) await this.loop;
    this.buildLog.close();
    this.runnerLog.close();
  }

  /** The running deployment as discovery clients see it, if any. */
  announced(): ModelState | undefined {
    return this.current ? this.stateOf(this.current, 'RUNNING') : undefined;
  }

  get crunchId(): string {
    return this.spec.crunchId;
  }

  status(): ModelStatus {
    const current = this.current;
    return {
      id: this.id,
      name: this.spec.infos.model_name,
      submissionId: this.spec.submissionId,
      crunchId: this.spec.crunchId,
      desiredState: this.spec.desiredState,
      phase: this.phase,
      deploymentId: current?.id ?? null,
      port: current?.port ?? null,
      pid: current?.process.pid ?? null,
      restarts: this.restarts,
      lastError: this.lastError,
      environment: this.environment
        ? { hash: this.environment.hash, dir: this.environment.dir, reused: this.environment.reused }
        : null,
      quarantine: this.quarantine ? { failureCode: this.quarantine.failureCode, reason: this.quarantine.reason } : null,
    };
  }

  private kick(): void {
    this.dirty = true;
    if (this.loop) return;
    this.loop = (async () => {
      while (this.dirty) {
        this.dirty = false;
        try {
          await this.converge();
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          log.error({ model: this.id, error: message }, `model ${this.id} hit an unexpected error`);
          this.setPhase('failed', message);
        }
      }
      this.loop = undefined;
    })();
  }

  private setPhase(phase: ModelPhase, error?: string | null): void {
    this.phase = phase;
    if (error !== undefined) this.lastError = error;
    this.context.changed(this.status());
  }

  /** What a running process depends on: a change of any of it needs a new deployment. */
  private deploymentKey(): string {
    return JSON.stringify([this.submission?.fingerprint, this.spec.crunchId, this.spec.env]);
  }

  private async converge(): Promise<void> {
    const spec = this.spec;
    const submission = this.submission;
    if (this.removed) return this.stopCurrent('stopped', 'the model was removed or the orchestrator stops');
    if (spec.desiredState === 'STOPPED') return this.stopCurrent('stopped', 'its desired state is STOPPED');
    if (!submission) {
      return this.fail(`submission ${spec.submissionId} not found in the submissions directory`);
    }
    if (this.quarantine) {
      if (this.quarantine.fingerprint === submission.fingerprint) {
        return this.stopCurrent('quarantined', `quarantined after a ${this.quarantine.failureCode} report`);
      }
      log.info({ model: this.id }, `submission of model ${this.id} changed: its quarantine is lifted`);
      this.quarantine = undefined;
      rmSync(this.quarantineFile, { force: true });
    }
    if (!submission.hasMain) return this.fail(`submission ${submission.id} has no main.py`);
    if (submission.requirements === undefined) return this.fail(`submission ${submission.id} has no requirements.txt`);
    const isolation = this.context.isolation;
    if (isolation.kind === 'none' && !this.context.trusted) {
      return this.fail(
        `it is not started: ${isolation.reason}, and submissions are not marked trusted (--trusted-submissions runs them unsandboxed)`,
      );
    }
    const refused = this.context.allowRequirementOptions ? undefined : refusedRequirement(submission.requirements);
    if (refused) return this.fail(`its requirements.txt is refused: ${refused}`);

    const key = this.deploymentKey();
    if (this.failedKey === key) return;
    const current = this.current;
    if (current && current.key === key && !this.redeployRequested) {
      if (JSON.stringify(current.infos) !== JSON.stringify(spec.infos)) {
        current.infos = spec.infos;
        this.announce(current, 'RUNNING');
      }
      return;
    }
    if (!current && key === this.activeKey && Date.now() < this.restartNotBefore) {
      // Still backing off. The restart timer itself can fire a millisecond before the wall clock
      // says the wait is over: returning then without a timer left the model recovering forever.
      clearTimeout(this.restartTimer);
      this.restartTimer = setTimeout(() => this.kick(), this.restartNotBefore - Date.now() + 1);
      return;
    }
    if (key !== this.activeKey) {
      this.activeKey = key;
      this.restarts = 0;
      this.restartDelayMs = this.context.restart.initialDelayMs;
    }
    this.redeployRequested = false;
    await this.deploy(key, submission);
  }

  private async fail(reason: string): Promise<void> {
    log.error({ model: this.id, reason }, `model ${this.id} cannot run: ${reason}`);
    this.buildLog.line(`cannot run: ${reason}`);
    await this.stopCurrent('failed', reason);
  }

  private async deploy(key: string, submission: Submission): Promise<void> {
    this.setPhase('building');
    let environment: Environment;
    try {
      environment = await this.context.environments.ensure({
        requirements: submission.requirements ?? '',
        requirementsPath: join(submission.dir, 'requirements.txt'),
        cwd: submission.dir,
        label: this.id,
        output: (text) => this.buildLog.write(text),
      });
    } catch (error) {
      const detail = error instanceof EnvironmentBuildError ? `${error.message}\n${error.outputTail}` : String(error);
      const reason = `its environment could not be built: ${error instanceof Error ? error.message : String(error)}`;
      this.buildLog.line(`build failed: ${detail}`);
      this.failedKey = key;
      if (this.removed) return;
      return this.fail(reason);
    }
    this.environment = environment;
    if (this.dirty || this.removed) return; // superseded while building; the loop runs again

    try {
      const started = await this.startProcess(key, environment, submission);
      const previous = this.current;
      this.current = started;
      this.announce(started, 'RUNNING');
      this.lastError = this.restarts > 0 ? this.lastError : null;
      this.setPhase('running');
      log.info(
        { model: this.id, deploymentId: started.id, port: started.port, pid: started.process.pid },
        `model ${this.id} is running on port ${started.port}`,
      );
      void started.process.exited.then((exit) => this.onExit(started, exit));
      if (previous) await this.retire(previous, 'STOPPED');
    } catch (error) {
      if (error instanceof SupersededError) return;
      const reason = error instanceof Error ? error.message : String(error);
      if (this.current) await this.retire(this.current, 'STOPPED');
      this.current = undefined;
      this.scheduleRestart(reason, 0);
    }
  }

  private async startProcess(key: string, environment: Environment, submission: Submission): Promise<Deployment> {
    this.setPhase('starting');
    const child = await this.spawnRunner(environment, submission);
    const port = child.port;
    if (child.pid > 0) rememberProcess(this.pidsDir, child.pid, submission.dir);
    const exitedEarly = new AbortController();
    void child.exited.then(() => {
      forgetProcess(this.pidsDir, child.pid);
      exitedEarly.abort();
    });
    const serving = await waitServing(dialable(this.context.host), port, {
      timeoutMs: this.context.healthTimeoutMs,
      signal: exitedEarly.signal,
    });
    if (!serving || this.removed) {
      const exit = child.running ? undefined : await child.exited;
      await child.stop(this.context.stopGraceMs);
      if (this.removed) throw new SupersededError();
      throw new Error(
        exit
          ? `model process ${describeExit(exit)} before its health check answered SERVING`
          : `model process did not answer SERVING within ${Math.round(this.context.healthTimeoutMs / 1000)} s`,
      );
    }
    const id = deploymentId(this.id, new Date(), this.lastDeploymentId);
    this.lastDeploymentId = id;
    return {
      id,
      key,
      crunchId: this.spec.crunchId,
      infos: this.spec.infos,
      process: child,
      port,
      startedAt: Date.now(),
      stopping: false,
    };
  }

  /**
   * The model-runner process: in its own sandbox serving on a Unix socket behind a TCP proxy, or,
   * for trusted submissions without isolation, directly on a TCP port.
   */
  private async spawnRunner(environment: Environment, submission: Submission): Promise<RunnerProcess> {
    const { host, isolation, limits } = this.context;
    if (isolation.kind === 'none') {
      const port = await freePort(host);
      this.runnerLog.line(`starting model-runner for ${submission.id} on ${host}:${port} (trusted: no sandbox)`);
      return new RunnerProcess({
        modelRunner: environment.modelRunner,
        codeDir: submission.dir,
        address: `${host}:${port}`,
        port,
        env: modelEnvironment(environment.dir, this.home, this.spec.env),
        limits: { ...limits, processes: null },
        log: this.runnerLog,
      });
    }
    const uid = sandboxUid(`${this.context.modelsDir}/${this.id}`);
    // Private (only the model's uid may write in it) and short: a Unix socket path has ~100 bytes,
    // so a deep state folder falls back to the system's tmp.
    const inState = join(this.modelDir, 'run-XXXXXX', 'model.sock').length <= 100;
    const runDir = mkdtempSync(inState ? join(this.modelDir, 'run-') : join(tmpdir(), 'model-run-'));
    if (isolation.asRoot) chownSync(runDir, uid, uid);
    const proxy = await SocketProxy.listen(host, 0, join(runDir, 'model.sock'));
    this.runnerLog.line(
      `starting model-runner for ${submission.id} in a sandbox${isolation.asRoot ? ` as uid ${uid}` : ''}, on ${host}:${proxy.port}`,
    );
    const child = new RunnerProcess({
      modelRunner: environment.modelRunner,
      codeDir: submission.dir,
      address: `unix:${SANDBOX_RUN}/model.sock`,
      port: proxy.port,
      proxy: {
        port: proxy.port,
        close: async () => {
          await proxy.close();
          rmSync(runDir, { recursive: true, force: true });
        },
      },
      wrap: (command) =>
        sandboxCommand(
          isolation,
          {
            uid,
            network: false,
            tmpfsBytes: limits.scratchBytes,
            readOnly: [this.context.pythonHome, environment.dir, submission.dir, ...this.context.resources],
            runDir,
            cwd: submission.dir,
          },
          command,
        ),
      env: modelEnvironment(environment.dir, SANDBOX_HOME, this.spec.env, SANDBOX_TMP),
      // Processes are counted per uid: per model only when each model has its own (as root).
      limits: isolation.asRoot ? limits : { ...limits, processes: null },
      log: this.runnerLog,
    });
    return child;
  }

  private onExit(deployment: Deployment, exit: RunnerExit): void {
    if (deployment.stopping || this.current !== deployment) return;
    const uptime = Date.now() - deployment.startedAt;
    this.current = undefined;
    this.announce(deployment, 'RECOVERING');
    void deployment.process.stop(0); // its group may still hold children of the dead process
    if (uptime >= this.context.restart.stableAfterMs) this.restartDelayMs = this.context.restart.initialDelayMs;
    this.scheduleRestart(`model process ${describeExit(exit)}`, uptime);
  }

  private scheduleRestart(reason: string, uptimeMs: number): void {
    if (this.removed) return;
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(this.restartDelayMs * 2, this.context.restart.maxDelayMs);
    this.restarts += 1;
    this.restartNotBefore = Date.now() + delay;
    const wait = delay < 1_000 ? `${delay} ms` : `${Math.round(delay / 100) / 10} s`;
    log.warn(
      { model: this.id, reason, uptimeMs, restarts: this.restarts, delayMs: delay },
      `model ${this.id} ${reason.replace(/^model process /, 'process ')}; restarting in ${wait}`,
    );
    this.runnerLog.line(`${reason}; restart ${this.restarts} in ${wait}`);
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => this.kick(), delay);
    this.setPhase('recovering', reason);
  }

  private async stopCurrent(phase: ModelPhase, why: string): Promise<void> {
    clearTimeout(this.restartTimer);
    const current = this.current;
    this.current = undefined;
    if (current) {
      log.info({ model: this.id, deploymentId: current.id, why }, `stopping model ${this.id}: ${why}`);
      await this.retire(current, 'STOPPED');
    }
    this.setPhase(phase, phase === 'failed' || phase === 'quarantined' ? why : this.lastError);
  }

  /** Announces the end of a deployment, then stops its process. */
  private async retire(deployment: Deployment, state: AnnouncedState): Promise<void> {
    deployment.stopping = true;
    if (this.current === deployment) this.current = undefined;
    this.announce(deployment, state);
    const exit = await deployment.process.stop(this.context.stopGraceMs);
    this.runnerLog.line(`deployment ${deployment.id} stopped (process ${describeExit(exit)})`);
  }

  private announce(deployment: Deployment, state: AnnouncedState): void {
    this.context.announce(deployment.crunchId, this.stateOf(deployment, state));
  }

  private stateOf(deployment: Deployment, state: AnnouncedState): ModelState {
    return {
      deployment_id: deployment.id,
      model_id: this.id,
      infos: deployment.infos,
      state,
      ip: this.context.advertiseHost,
      port: deployment.port,
    };
  }
}

/** Where to dial a port bound on a wildcard address. */
function dialable(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

function readQuarantine(path: string): { fingerprint: string; failureCode: string; reason: string | null } | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const saved = JSON.parse(readFileSync(path, 'utf8')) as {
      fingerprint?: unknown;
      failureCode?: unknown;
      reason?: unknown;
    };
    if (typeof saved.fingerprint !== 'string' || typeof saved.failureCode !== 'string') return undefined;
    return {
      fingerprint: saved.fingerprint,
      failureCode: saved.failureCode,
      reason: typeof saved.reason === 'string' ? saved.reason : null,
    };
  } catch {
    return undefined;
  }
}
