import { EventEmitter, setMaxListeners } from 'node:events';
import { createLogger, type Logger } from '../log/index.js';
import { DiscoveryConnection, type ModelState } from './discovery.js';
import { type ModelTransport, modelTransports } from './grpc-channel.js';
import {
  type ConnectionOwner,
  type ConnectionSettings,
  type ModelCallOptions,
  ModelConnection,
} from './model-connection.js';
import { serializeCallRequest, serializeSetupRequest, type WireArgument, type WireKwArgument } from './proto.js';
import type {
  CallArguments,
  CallOptions,
  CallResult,
  FailureCode,
  ModelInfo,
  ModelRunnerClientEvents,
  ModelRunnerClientOptions,
  Value,
} from './types.js';
import { encodeVariant, VariantType } from './variant.js';

const MiB = 1024 * 1024;

/**
 * Talks to every participant model of one crunch: follows the orchestrator's announcements, keeps a
 * gRPC channel per model deployment, and fans calls out to all of them (docs/protocol.md).
 */
export class ModelRunnerClient extends EventEmitter<ModelRunnerClientEvents> implements ConnectionOwner {
  private readonly connections = new Map<string, ModelConnection>();
  /** Deployments that emitted 'model-joined' and have not left. */
  private readonly joined = new Set<string>();
  /** What the orchestrator last said runs (or is recovering), by model id; null before its first word. */
  private announced: Map<string, ModelInfo> | null = null;
  private readonly settings: ConnectionSettings;
  private readonly reportFailures: boolean;
  private readonly discovery: DiscoveryConnection | null;
  private readonly staticModels: ModelInfo[] | null;
  private readonly log: Logger;
  private started = false;
  private closed = false;
  /** Configuration problems already logged at error level (the same one for every model is said once). */
  private readonly saidUnusable = new Set<string>();

  constructor(options: ModelRunnerClientOptions) {
    super();
    if (!options || typeof options !== 'object') throw new TypeError('ModelRunnerClient needs an options object');
    const { className } = options;
    if (typeof className !== 'string' || className.trim() === '') {
      throw new TypeError('className (the dotted path of the game base class) is required');
    }
    if (Boolean(options.discoveryUrl) === Boolean(options.models)) {
      throw new TypeError('give either discoveryUrl or a static models list, not both and not neither');
    }
    this.log = options.logger ?? createLogger('model-runner');
    this.reportFailures = options.reportFailures ?? true;
    const instance = splitArguments(options.instanceArgs ?? []);
    this.settings = {
      setupRequest: serializeSetupRequest({
        className: className.trim(),
        instanceArguments: instance.args,
        instanceKwArguments: instance.kwargs,
      }),
      setupTimeoutMs: positive(options.setupTimeoutMs, 60_000, 'setupTimeoutMs'),
      connectAttempts: Math.floor(positive(options.connectAttempts, 5, 'connectAttempts')),
      connectBackoffMs: backoffList(options.connectBackoffMs),
      channelReadyTimeoutMs: positive(options.channelReadyTimeoutMs, 10_000, 'channelReadyTimeoutMs'),
      healthCheckTimeoutMs: positive(options.healthCheckTimeoutMs, 5_000, 'healthCheckTimeoutMs'),
      busyRetryDelayMs: positive(options.busyRetryDelayMs, 50, 'busyRetryDelayMs'),
      maxMessageBytes: Math.floor(positive(options.maxMessageBytes, 64 * MiB, 'maxMessageBytes')),
      maxAnswerBytes: Math.floor(
        positive(options.maxAnswerBytes ?? options.maxMessageBytes, 64 * MiB, 'maxAnswerBytes'),
      ),
      transport: transportOf(options.transport),
      credentials: options.credentials ?? null,
      limits: {
        maxConsecutiveFailures: atLeastZero(options.maxConsecutiveFailures, 3, 'maxConsecutiveFailures'),
        maxConsecutiveTimeouts: atLeastZero(options.maxConsecutiveTimeouts, 3, 'maxConsecutiveTimeouts'),
      },
    };
    if (options.models) {
      this.staticModels = options.models.map(checkModelInfo);
      this.discovery = null;
    } else {
      this.staticModels = null;
      this.discovery = new DiscoveryConnection({
        url: String(options.discoveryUrl),
        reconnectDelayMs: positive(options.reconnectDelayMs, 10_000, 'reconnectDelayMs'),
        maxReconnectDelayMs: positive(options.maxReconnectDelayMs, 60_000, 'maxReconnectDelayMs'),
        pingIntervalMs: atLeastZero(options.discoveryPingIntervalMs, 20_000, 'discoveryPingIntervalMs'),
        logger: this.log,
        onModels: (kind, states) => this.applyStates(states, kind === 'init'),
        onConnected: () => this.emit('discovery-connected'),
        onDisconnected: (reason) => this.emit('discovery-disconnected', reason),
      });
    }
  }

  /**
   * Connects to discovery (or takes the static list) and starts connecting the models. Resolves once
   * the first model list is applied, or the orchestrator could not be reached at once (it keeps
   * retrying). Models join in the background: see 'model-joined' and waitForModels().
   */
  async start(): Promise<void> {
    if (this.closed) throw new Error('this ModelRunnerClient is closed');
    if (this.started) return;
    this.started = true;
    if (this.staticModels) {
      this.applyStates(this.staticModels.map(toRunningState), true);
      return;
    }
    await this.discovery?.start();
  }

  /** Closes the orchestrator connection, every channel and every pending timer. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.discovery?.close();
    for (const connection of [...this.connections.values()]) this.remove(connection, 'the client closed');
  }

  /** Models connected and set up: the ones a call reaches. */
  models(): ModelInfo[] {
    const ready: ModelInfo[] = [];
    for (const connection of this.connections.values()) if (connection.state === 'ready') ready.push(connection.info);
    return ready;
  }

  /**
   * Models the orchestrator says should be running (RUNNING, or RECOVERING after a crash), connected
   * or not, minus those this client reported: the ones a coordinator expects answers from. Null until
   * the first model list arrived, when nobody can tell.
   */
  expectedModels(): ModelInfo[] | null {
    return this.announced ? [...this.announced.values()] : null;
  }

  /** Failure reports held until the orchestrator connection is back. */
  get pendingReports(): number {
    return this.discovery?.pendingReports ?? 0;
  }

  /** Resolves when at least `count` models are ready; rejects after `timeoutMs`. */
  waitForModels(count: number, timeoutMs: number): Promise<ModelInfo[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const ready = this.models();
        if (ready.length < count) return;
        cleanup();
        resolve(ready);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`only ${this.models().length} of ${count} models were ready after ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.off('model-joined', check);
        this.off('model-reconnected', check);
      };
      this.on('model-joined', check);
      this.on('model-reconnected', check);
      check();
    });
  }

  /**
   * Calls `method` on every ready model (or the listed ones) at once and gives one result per model,
   * in models() order. Arguments are encoded once for all. Never rejects for a model's sake; it
   * throws only for bad arguments of its own.
   */
  async call<T = unknown>(method: string, args: CallArguments, options: CallOptions): Promise<CallResult<T>[]> {
    if (typeof method !== 'string' || method.trim() === '') throw new TypeError('call() needs a method name');
    const timeoutMs = options?.timeoutMs;
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new TypeError(`call() needs options.timeoutMs > 0, got ${String(timeoutMs)}`);
    }
    const deadline = Date.now() + timeoutMs;
    const { args: methodArguments, kwargs: methodKwArguments } = splitArguments(args);
    const request = serializeCallRequest({ methodName: method, methodArguments, methodKwArguments });
    const wanted = options.models ? new Set(options.models) : null;
    const targets: ModelConnection[] = [];
    for (const connection of this.connections.values()) {
      if (connection.state === 'ready' && (!wanted || wanted.has(connection.info.modelId))) targets.push(connection);
    }
    const perModel: ModelCallOptions = { label: options.label ?? method, decode: options.decode ?? true };
    if (options.waitBehind) perModel.waitBehind = options.waitBehind;
    // One listener on the caller's signal, whatever the number of models: each call listens to ours.
    const caller = options.signal;
    const local = caller ? new AbortController() : null;
    const relay = () => local?.abort(caller?.reason);
    if (caller && local) {
      setMaxListeners(0, local.signal);
      if (caller.aborted) relay();
      else caller.addEventListener('abort', relay, { once: true });
      perModel.signal = local.signal;
    }
    const onResult = options.onResult;
    try {
      return (await Promise.all(
        targets.map((connection) => {
          const result = connection.call(request, deadline, perModel);
          if (!onResult) return result;
          return result.then((answered) => {
            onResult(answered);
            return answered;
          });
        }),
      )) as CallResult<T>[];
    } finally {
      caller?.removeEventListener('abort', relay);
    }
  }

  // ConnectionOwner: what a connection tells us.

  modelReady(connection: ModelConnection): void {
    if (this.connections.get(connection.info.modelId) !== connection) return;
    const { info } = connection;
    if (this.joined.has(info.deploymentId)) {
      this.log.info({ model: info.modelId, deployment: info.deploymentId }, `model ${info.modelId} is set up again`);
      this.emit('model-reconnected', info);
      return;
    }
    this.joined.add(info.deploymentId);
    this.log.info(
      { model: info.modelId, deployment: info.deploymentId, address: connection.target },
      `model ${info.modelId} (${info.name}) joined`,
    );
    this.emit('model-joined', info);
  }

  reportModel(connection: ModelConnection, failureCode: FailureCode, reason: string): void {
    if (connection.state === 'closed' || this.connections.get(connection.info.modelId) !== connection) return;
    const { info } = connection;
    if (!this.reportFailures) {
      this.log.warn(
        { model: info.modelId, failureCode, reason },
        `model ${info.modelId} would be reported ${failureCode}, but reporting is off`,
      );
      // A model that never got set up is dropped anyway; a working one keeps being called.
      if (connection.state !== 'ready') this.remove(connection, `${failureCode}: ${reason}`);
      return;
    }
    this.remove(connection, `reported ${failureCode}: ${reason}`);
    if (this.announced?.get(info.modelId)?.deploymentId === info.deploymentId) this.announced.delete(info.modelId);
    this.log.warn(
      { model: info.modelId, deployment: info.deploymentId, failureCode, reason },
      `model ${info.modelId} reported to the orchestrator as ${failureCode}: ${reason}`,
    );
    this.emit('model-reported', { model: info, failureCode, reason });
    this.discovery?.sendReport({
      model_id: info.modelId,
      failure_code: failureCode,
      failure_reason: reason,
      ip: info.ip,
    });
  }

  modelUnusable(connection: ModelConnection, reason: string): void {
    const first = !this.saidUnusable.has(reason);
    this.saidUnusable.add(reason);
    this.log[first ? 'error' : 'debug'](
      { model: connection.info.modelId, reason },
      `model ${connection.info.modelId} cannot be set up because of the coordinator's configuration: ${reason}`,
    );
  }

  // Discovery: docs/protocol.md#discovery.

  private applyStates(states: ModelState[], replaceAll: boolean): void {
    if (this.closed) return;
    if (replaceAll || !this.announced) this.announced = new Map();
    for (const state of states) {
      if (state.state === 'RUNNING' || state.state === 'RECOVERING')
        this.announced.set(state.modelId, toModelInfo(state));
      else if (this.announced.get(state.modelId)?.deploymentId === state.deploymentId)
        this.announced.delete(state.modelId);
    }
    for (const state of states) this.applyState(state);
    if (!replaceAll) return;
    const announced = new Set(states.map((state) => state.modelId));
    for (const connection of [...this.connections.values()]) {
      if (!announced.has(connection.info.modelId)) this.remove(connection, 'no longer announced by the orchestrator');
    }
  }

  private applyState(state: ModelState): void {
    const current = this.connections.get(state.modelId);
    // Events about another deployment of the model (a redeploy's STOPPED old one) do not touch the current one.
    const same = current && current.info.deploymentId === state.deploymentId ? current : undefined;
    if (state.state === 'STOPPED' || state.state === 'RECOVERING') {
      if (same) this.remove(same, `the orchestrator says ${state.state}`);
      return;
    }
    if (state.state !== 'RUNNING') {
      this.log.warn(
        { model: state.modelId, state: state.state },
        `model ${state.modelId} is in unknown state ${state.state}`,
      );
      return;
    }
    if (!state.ip || state.port === null) {
      this.log.warn({ model: state.modelId }, `model ${state.modelId} is RUNNING without an address; ignored`);
      return;
    }
    const info = toModelInfo(state);
    if (same && same.info.ip === info.ip && same.info.port === info.port) {
      same.info = info;
      return;
    }
    if (current) {
      // A new deployment replaces the model; the same deployment at a new address just moves.
      const moved = current.info.deploymentId === info.deploymentId;
      this.remove(current, `replaced by deployment ${info.deploymentId}`, !moved);
    }
    const connection = new ModelConnection(info, this.settings, this, this.log);
    this.connections.set(info.modelId, connection);
    this.log.info(
      { model: info.modelId, deployment: info.deploymentId, address: connection.target },
      `connecting to model ${info.modelId}`,
    );
    void connection.connect();
  }

  private remove(connection: ModelConnection, reason: string, leaves = true): void {
    connection.close();
    const { info } = connection;
    if (this.connections.get(info.modelId) === connection) this.connections.delete(info.modelId);
    if (leaves && this.joined.delete(info.deploymentId)) {
      this.log[this.closed ? 'debug' : 'info'](
        { model: info.modelId, deployment: info.deploymentId, reason },
        `model ${info.modelId} left: ${reason}`,
      );
      this.emit('model-left', info, reason);
    }
  }
}

/** Positional and keyword arguments as the wire carries them. */
function splitArguments(input: CallArguments): { args: WireArgument[]; kwargs: WireKwArgument[] } {
  const positional = Array.isArray(input) ? input : (input?.args ?? []);
  const named = Array.isArray(input) ? {} : (input?.kwargs ?? {});
  if (!Array.isArray(positional)) throw new TypeError('arguments must be a list or { args, kwargs }');
  return {
    args: positional.map((value, position) => ({ position, data: encodeArgument(value) })),
    kwargs: Object.entries(named).map(([keyword, value]) => ({ keyword, data: encodeArgument(value) })),
  };
}

const JSON_NULL = { type: VariantType.JSON, value: Buffer.from('null') };

/** model-runner 0.4.2 cannot read a NONE argument, so null travels as JSON `null` (Python None). */
function encodeArgument(value: Value) {
  return value === null ? JSON_NULL : encodeVariant(value);
}

/** A discovery entry as the model it announces. */
export function toModelInfo(state: ModelState): ModelInfo {
  return {
    modelId: state.modelId,
    deploymentId: state.deploymentId,
    name: state.infos.modelName ?? state.modelId,
    cruncherId: state.infos.cruncherId ?? '',
    cruncherName: state.infos.cruncherName ?? '',
    cruncherWalletPubkey: state.infos.cruncherWalletPubkey,
    cruncherHotkey: state.infos.cruncherHotkey,
    ip: state.ip ?? '',
    port: state.port ?? 0,
  };
}

function toRunningState(info: ModelInfo): ModelState {
  return {
    deploymentId: info.deploymentId,
    modelId: info.modelId,
    state: 'RUNNING',
    ip: info.ip,
    port: info.port,
    infos: {
      modelName: info.name,
      cruncherId: info.cruncherId,
      cruncherName: info.cruncherName,
      cruncherWalletPubkey: info.cruncherWalletPubkey ?? null,
      cruncherHotkey: info.cruncherHotkey ?? null,
    },
  };
}

function checkModelInfo(info: ModelInfo, index: number): ModelInfo {
  const problems: string[] = [];
  if (!info || typeof info !== 'object') throw new TypeError(`models[${index}] is not an object`);
  if (typeof info.modelId !== 'string' || !info.modelId) problems.push('modelId');
  if (typeof info.deploymentId !== 'string' || !info.deploymentId) problems.push('deploymentId');
  if (typeof info.ip !== 'string' || !info.ip) problems.push('ip');
  if (!Number.isInteger(info.port) || info.port <= 0 || info.port > 65535) problems.push('port');
  if (problems.length) throw new TypeError(`models[${index}] has no valid ${problems.join(', ')}`);
  return info;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`${name} must be a positive number, got ${String(value)}`);
  }
  return value;
}

function atLeastZero(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${name} must be a number >= 0, got ${String(value)}`);
  }
  return value;
}

function backoffList(value: number[] | undefined): number[] {
  if (value === undefined) return [2_000, 4_000, 8_000, 16_000];
  if (!Array.isArray(value) || value.length === 0 || value.some((ms) => typeof ms !== 'number' || !(ms >= 0))) {
    throw new TypeError('connectBackoffMs must be a non-empty list of waits in ms');
  }
  return value;
}

function transportOf(transport: unknown): ModelTransport {
  if (transport === undefined) return 'http2';
  if (modelTransports.includes(transport as ModelTransport)) return transport as ModelTransport;
  throw new TypeError(`transport must be one of ${modelTransports.join(', ')}, not ${String(transport)}`);
}
