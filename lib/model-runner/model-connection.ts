// One model deployment: its gRPC channel, the connect-and-Setup attempts, the queue that keeps
// calls to it one at a time, and the result rules of docs/protocol.md#call-rules.
import { isUtf8 } from 'node:buffer';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log/index.js';
import { CallPolicy, type CallPolicyLimits } from './call-policy.js';
import {
  CallDroppedError,
  cancelledBy,
  type GrpcChannel,
  GrpcError,
  GrpcStatus,
  Http2Channel,
  type ModelTransport,
} from './grpc-channel.js';
import { GrpcJsChannel } from './grpc-js-channel.js';
import { capModelText, MAX_MODEL_TEXT_CHARS } from './model-text.js';
import {
  type CallResponse,
  callMethod,
  type HealthCheckResponse,
  healthCheckMethod,
  ModelStatusCode,
  ServingStatus,
  type SetupResponse,
  setupMethod,
} from './proto.js';
import { channelSecurityFor } from './security/channel-security.js';
import type { ModelCredentials } from './security/credentials.js';
import { authenticationReason, isAuthenticationFailure, notSecureModeHint } from './security/mode.js';
import type { CallResult, CallStatus, FailureCode, ModelInfo } from './types.js';
import { decodeVariant, VariantDecodeError, VariantType } from './variant.js';

export interface ConnectionSettings {
  /** The serialised SetupRequest, the same for every model. */
  setupRequest: Buffer;
  setupTimeoutMs: number;
  connectAttempts: number;
  connectBackoffMs: number[];
  channelReadyTimeoutMs: number;
  healthCheckTimeoutMs: number;
  busyRetryDelayMs: number;
  maxMessageBytes: number;
  /** Largest answer received (default maxMessageBytes). */
  maxAnswerBytes?: number;
  transport: ModelTransport;
  limits: CallPolicyLimits;
  /** Secure or gateway mode's credentials; null: plain gRPC. */
  credentials: ModelCredentials | null;
}

/** How a connection tells its owner what happened; the owner decides about events and reports. */
export interface ConnectionOwner {
  modelReady(connection: ModelConnection): void;
  reportModel(connection: ModelConnection, code: FailureCode, reason: string): void;
  /** Setup was refused for a reason that is the coordinator's fault, not the model's. */
  modelUnusable(connection: ModelConnection, reason: string): void;
}

export type ConnectionState = 'connecting' | 'ready' | 'unusable' | 'closed';

interface Outcome {
  result: CallResult;
  /** Bookkeeping after the result (the health check after a timeout); the next call does not wait for it. */
  after?: () => Promise<void>;
}

/** What a call needs besides its request bytes and deadline. */
export interface ModelCallOptions {
  /** What the call is (its method, or a caller's label): for `waitBehind` and the "still busy" reason. */
  label: string;
  decode?: boolean;
  /** Labels of earlier calls this one may wait behind instead of being TIMEOUT at once. */
  waitBehind?: readonly string[];
  signal?: AbortSignal;
}

interface QueuedCall {
  label: string;
  /** performance.now() when it was queued, then when it started. */
  since: number;
}

const HEALTH_REQUEST = healthCheckMethod.requestSerialize({ service: '' });

export class ModelConnection {
  state: ConnectionState = 'connecting';
  readonly policy: CallPolicy;
  private channel: GrpcChannel | null = null;
  private queueTail: Promise<void> = Promise.resolve();
  /** The call running (first) and those waiting behind it, with their bookkeeping. */
  private readonly inQueue: QueuedCall[] = [];
  private readonly stop = new AbortController();

  constructor(
    public info: ModelInfo,
    private readonly settings: ConnectionSettings,
    private readonly owner: ConnectionOwner,
    private readonly log: Logger,
  ) {
    this.policy = new CallPolicy(settings.limits);
  }

  get target(): string {
    const host = this.info.ip.includes(':') && !this.info.ip.startsWith('[') ? `[${this.info.ip}]` : this.info.ip;
    return `${host}:${this.info.port}`;
  }

  /**
   * Connects and sets the model up: up to `connectAttempts` tries (channel ready, then Setup), with
   * the backoff between them; then CONNECTION_FAILED. Never throws.
   */
  async connect(): Promise<void> {
    const { connectAttempts, connectBackoffMs, channelReadyTimeoutMs, setupTimeoutMs } = this.settings;
    let lastProblem = 'no attempt was made';
    for (let attempt = 1; attempt <= connectAttempts; attempt++) {
      if (this.state !== 'connecting') return;
      try {
        this.channel ??= await this.newChannel();
        if (this.state !== 'connecting') return this.dropChannel();
        await this.waitForChannel(channelReadyTimeoutMs);
        const response = await this.untilNotBusy<SetupResponse>(
          setupMethod.path,
          this.settings.setupRequest,
          setupMethod.responseDeserialize,
          Date.now() + setupTimeoutMs,
        );
        if (this.state !== 'connecting') return;
        this.settle(response);
        return;
      } catch (error) {
        if (this.state !== 'connecting') return;
        lastProblem = describeError(error);
        // A refused certificate or identity does not get better by trying again: reported once.
        if (isAuthenticationFailure(error)) {
          const reason = `authentication failed at ${this.target}: ${authenticationReason(error)}`;
          this.owner.reportModel(this, 'CONNECTION_FAILED', reason);
          return;
        }
        const hint = this.settings.credentials ? null : await notSecureModeHint(this.info.ip, this.info.port);
        if (hint && this.state === 'connecting') {
          this.state = 'unusable';
          this.owner.modelUnusable(this, hint);
          return;
        }
      }
      if (attempt < connectAttempts) {
        const waitMs = connectBackoffMs[Math.min(attempt - 1, connectBackoffMs.length - 1)] ?? 0;
        this.log.warn(
          { model: this.info.modelId, attempt, of: connectAttempts, waitMs, problem: lastProblem },
          `model ${this.info.modelId} is not reachable yet; trying again in ${formatMs(waitMs)}`,
        );
        try {
          await sleep(waitMs, undefined, { signal: this.stop.signal });
        } catch {
          return;
        }
      }
    }
    this.owner.reportModel(
      this,
      'CONNECTION_FAILED',
      `not reachable at ${this.target} after ${connectAttempts} attempts: ${lastProblem}`,
    );
  }

  private settle(response: SetupResponse): void {
    const code = response.status?.code ?? ModelStatusCode.UNKNOWN;
    // The model's own words: bounded here, before they reach results, reports and logs.
    const message = capModelText(response.status?.message ?? '');
    if (code === ModelStatusCode.SUCCESS) {
      this.state = 'ready';
      this.owner.modelReady(this);
    } else if (code === ModelStatusCode.BAD_IMPLEMENTATION) {
      this.owner.reportModel(this, 'BAD_IMPLEMENTATION', `Setup: ${message}`);
    } else if (code === ModelStatusCode.INVALID_ARGUMENT) {
      this.state = 'unusable';
      this.owner.modelUnusable(this, `Setup was refused as INVALID_ARGUMENT: ${message}`);
    } else {
      // SETUP_FAILED and the rest: the reference reports these as MULTIPLE_FAILED without retrying.
      this.owner.reportModel(this, 'MULTIPLE_FAILED', `Setup answered ${code}: ${message}`);
    }
  }

  /**
   * Drops the channel and sets the model up again on a new one; its counters start over, except the
   * failures in a row when `keepFailures` (a process that crashes on every call must still be reported).
   */
  reconnect(reason: string, { keepFailures = false } = {}): void {
    if (this.state !== 'ready') return;
    this.log.warn({ model: this.info.modelId, reason }, `model ${this.info.modelId} is being reconnected: ${reason}`);
    this.state = 'connecting';
    this.dropChannel();
    const failures = this.policy.consecutiveFailures;
    this.policy.reset();
    if (keepFailures) this.policy.consecutiveFailures = failures;
    void this.connect();
  }

  /**
   * Calls the model, one call at a time. A model still busy with an earlier call gets this one as
   * TIMEOUT at once ("still busy"), unless every call ahead of it is one of `waitBehind` (e.g. the
   * price tick a predict follows): then it waits its turn. `deadline` (epoch ms) was fixed when the
   * fan-out started, so a wait counts against it. A call that never reached the model does not count
   * against it (the one ahead does). An aborted `signal` ends the call at once, uncounted.
   */
  call(request: Buffer, deadline: number, options: ModelCallOptions): Promise<CallResult> {
    const { label, decode = true, waitBehind, signal } = options;
    if (signal?.aborted) return Promise.resolve(this.cancelled(signal));
    const ahead = this.inQueue;
    if (ahead.length > 0 && !ahead.every((earlier) => waitBehind?.includes(earlier.label))) {
      const running = ahead[0] as QueuedCall;
      const forMs = Math.round(performance.now() - running.since);
      const reason = `the model was still busy with its previous call (${running.label}, running for ${forMs} ms)`;
      return Promise.resolve(this.result('TIMEOUT', null, 0, reason));
    }
    return new Promise((resolve) => {
      const entry: QueuedCall = { label, since: performance.now() };
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const settle = (result: CallResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const onAbort = () => settle(this.cancelled(signal as AbortSignal));
      signal?.addEventListener('abort', onAbort, { once: true });
      if (ahead.length > 0) {
        timer = setTimeout(() => {
          const reason = `the deadline passed while the model was still busy with its previous call (${ahead[0]?.label})`;
          settle(this.result('TIMEOUT', null, 0, reason));
        }, deadline - Date.now());
      }
      this.inQueue.push(entry);
      const run = async (): Promise<void> => {
        clearTimeout(timer);
        if (settled) return;
        entry.since = performance.now();
        let outcome: Outcome;
        try {
          outcome = await this.attempt(request, deadline, decode, signal);
        } catch (error) {
          outcome = { result: this.result('FAILED', null, 0, `internal error: ${describeError(error)}`) };
        }
        settle(outcome.result);
        // Not awaited: the model's next call must not wait on bookkeeping about this one.
        void outcome.after?.().catch((error: unknown) => {
          this.log.error({ model: this.info.modelId, err: error }, 'bookkeeping after a call failed');
        });
      };
      this.queueTail = this.queueTail.then(run).finally(() => {
        this.inQueue.splice(this.inQueue.indexOf(entry), 1);
      });
    });
  }

  private async attempt(
    request: Buffer,
    deadline: number,
    decode: boolean,
    signal: AbortSignal | undefined,
  ): Promise<Outcome> {
    if (this.state !== 'ready') {
      // Reconnecting or gone: that is already being dealt with, so this does not count.
      const why = this.state === 'connecting' ? 'is reconnecting' : 'is no longer connected';
      return { result: this.result('TIMEOUT', null, 0, `model ${why}`) };
    }
    if (this.policy.shouldSkip()) {
      const reason = `skipped: resting after ${this.policy.consecutiveTimeouts} timeouts in a row`;
      return this.timedOut(reason, 0);
    }
    if (Date.now() >= deadline) {
      const reason = 'the deadline passed while the model was still busy with its previous call';
      return { result: this.result('TIMEOUT', null, 0, reason) };
    }

    const started = process.hrtime.bigint();
    const elapsedUs = () => Number((process.hrtime.bigint() - started) / 1000n);
    let response: CallResponse;
    try {
      response = await this.unary(callMethod.path, request, callMethod.responseDeserialize, deadline, true, signal);
    } catch (error) {
      if (signal?.aborted) return { result: this.cancelled(signal) };
      if (isAuthenticationFailure(error)) {
        // The node's identity no longer holds (or it refuses ours): not a slow model, a node not to trust.
        const reason = `authentication failed: ${authenticationReason(error)}`;
        this.owner.reportModel(this, 'CONNECTION_FAILED', reason);
        return { result: this.result('FAILED', null, elapsedUs(), reason) };
      }
      if (error instanceof CallDroppedError) return this.dropped(error, elapsedUs());
      // The process still runs a call we gave up on (model-runner refuses a second one): this slot is lost.
      const reason = isBusy(error)
        ? 'the model was still busy with its previous call (one the coordinator had given up on)'
        : describeError(error);
      return this.timedOut(reason, elapsedUs());
    }
    const execTimeUs = elapsedUs();

    const code = response.status?.code ?? ModelStatusCode.UNKNOWN;
    const message = capModelText(response.status?.message ?? '');
    if (code === ModelStatusCode.SUCCESS) {
      const answer = response.methodResponse;
      if (!decode && answer?.type === VariantType.JSON) {
        if (!isUtf8(answer.value))
          return { result: this.failed("the model's JSON answer is not valid UTF-8", execTimeUs) };
        this.policy.recordSuccess();
        const result = this.result('SUCCESS', null, execTimeUs);
        result.raw = answer;
        return { result };
      }
      try {
        const value = decodeVariant(answer);
        this.policy.recordSuccess();
        return { result: this.result('SUCCESS', value, execTimeUs) };
      } catch (error) {
        if (!(error instanceof VariantDecodeError)) throw error;
        return { result: this.failed(error.message, execTimeUs) };
      }
    }
    if (code === ModelStatusCode.BAD_IMPLEMENTATION) {
      this.owner.reportModel(this, 'BAD_IMPLEMENTATION', message);
      return { result: this.result('FAILED', null, execTimeUs, `BAD_IMPLEMENTATION: ${message}`) };
    }
    if (code === ModelStatusCode.FAILED_PRECONDITION) {
      // The process lost its instance (it restarted at the same address): set it up again.
      this.reconnect(`it answered FAILED_PRECONDITION (${message})`);
      return { result: this.result('FAILED', null, execTimeUs, `FAILED_PRECONDITION: ${message}`) };
    }
    if (code === ModelStatusCode.INVALID_ARGUMENT) {
      // Our request was malformed: not the model's fault, so it does not count against it.
      this.log.error({ model: this.info.modelId, message }, 'a model refused a call as INVALID_ARGUMENT');
      return { result: this.result('FAILED', null, execTimeUs, `INVALID_ARGUMENT: ${message}`) };
    }
    return { result: this.failed(`${code}: ${message}`, execTimeUs) };
  }

  /** The server refuses a request while an earlier one (one we gave up on) still runs; wait for it. */
  private async untilNotBusy<T>(path: string, request: Buffer, deserialize: (bytes: Buffer) => T, deadline: number) {
    for (;;) {
      try {
        return await this.unary<T>(path, request, deserialize, deadline, true);
      } catch (error) {
        const delay = this.settings.busyRetryDelayMs;
        if (!isBusy(error) || this.state === 'closed' || Date.now() + delay >= deadline) throw error;
        await sleep(delay, undefined, { signal: this.stop.signal });
      }
    }
  }

  /**
   * The process exited or broke the connection during the call: FAILED now (it counts), and the
   * model is set up again on a new connection; it is reported CONNECTION_FAILED if it does not come back.
   */
  private dropped(error: CallDroppedError, execTimeUs: number): Outcome {
    const result = this.failed(`the model process exited during the call (${error.details})`, execTimeUs);
    this.reconnect('its process exited during a call', { keepFailures: true });
    return { result };
  }

  /** A call its caller cancelled (the activity was cancelled): not the model's doing, so not counted. */
  private cancelled(signal: AbortSignal): CallResult {
    return this.result('TIMEOUT', null, 0, cancelledBy(signal).details);
  }

  private failed(reason: string, execTimeUs: number): CallResult {
    if (this.policy.recordFailure()) {
      const count = this.policy.consecutiveFailures;
      this.owner.reportModel(this, 'MULTIPLE_FAILED', `${count} failed calls in a row; the last: ${reason}`);
    }
    return this.result('FAILED', null, execTimeUs, reason);
  }

  /**
   * A timeout counts at once (the next call's cooldown depends on it); the health check that follows
   * runs beside the model's next calls, never holding them: if the process does not answer SERVING
   * the model is set up again (its counters start over, so the timeout did not count); if it does and
   * the timeouts in a row are past the limit, it is reported.
   */
  private timedOut(reason: string, execTimeUs: number): Outcome {
    this.policy.recordTimeout();
    return { result: this.result('TIMEOUT', null, execTimeUs, reason), after: () => this.checkAfterTimeout() };
  }

  private async checkAfterTimeout(): Promise<void> {
    if (this.state !== 'ready') return;
    const serving = await this.isServing();
    if (this.state !== 'ready') return;
    if (!serving) {
      this.reconnect('its health check did not answer SERVING after a timeout');
      return;
    }
    if (this.policy.timeoutsOverLimit()) {
      const count = this.policy.consecutiveTimeouts;
      this.owner.reportModel(this, 'MULTIPLE_TIMEOUT', `${count} timeouts in a row`);
    }
  }

  async isServing(): Promise<boolean> {
    try {
      const response = await this.unary<HealthCheckResponse>(
        healthCheckMethod.path,
        HEALTH_REQUEST,
        healthCheckMethod.responseDeserialize,
        Date.now() + this.settings.healthCheckTimeoutMs,
        false,
      );
      return response.status === ServingStatus.SERVING;
    } catch {
      return false;
    }
  }

  /** Stops everything: pending waits end, calls in flight are cancelled, the channel closes. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.stop.abort();
    this.dropChannel();
  }

  private result(status: CallStatus, value: unknown, execTimeUs: number, error?: string): CallResult {
    const result: CallResult = { model: this.info, status, value, execTimeUs };
    // A second net, for texts of the model's that arrive another way (a gRPC status message): room
    // is left for our prefix before a status message, which is capped where it enters.
    if (error !== undefined) result.error = capModelText(error, MAX_MODEL_TEXT_CHARS + 256);
    return result;
  }

  /** A channel to the model; in secure mode after the TLS probe of the node (security/). */
  private async newChannel(): Promise<GrpcChannel> {
    const { credentials } = this.settings;
    const options = {
      maxMessageBytes: this.settings.maxMessageBytes,
      ...(this.settings.maxAnswerBytes ? { maxAnswerBytes: this.settings.maxAnswerBytes } : {}),
      // Model processes come up after discovery announces them: retry the connection quickly.
      initialReconnectBackoffMs: 100,
      maxReconnectBackoffMs: 1000,
      ...(credentials ? { security: await channelSecurityFor(credentials, this.info) } : {}),
    };
    return this.settings.transport === 'grpc-js'
      ? new GrpcJsChannel(this.info.ip, this.info.port, options)
      : new Http2Channel(this.info.ip, this.info.port, options);
  }

  /** Calls in flight end as CANCELLED; a later connect opens a new TCP connection. */
  private dropChannel(): void {
    this.channel?.close();
    this.channel = null;
  }

  private async waitForChannel(timeoutMs: number): Promise<void> {
    if (!this.channel) throw new Error('the channel is closed');
    try {
      await this.channel.waitForReady(Date.now() + timeoutMs);
    } catch (error) {
      if (isAuthenticationFailure(error)) throw error;
      throw new Error(`channel not ready within ${formatMs(timeoutMs)}: ${describeError(error)}`);
    }
  }

  private async unary<T>(
    path: string,
    request: Buffer,
    deserialize: (bytes: Buffer) => T,
    deadline: number,
    waitForReady: boolean,
    signal?: AbortSignal,
  ): Promise<T> {
    if (!this.channel) throw new Error('the channel is closed');
    const options = signal ? { deadline, waitForReady, signal } : { deadline, waitForReady };
    return deserialize(await this.channel.unary(path, request, options));
  }
}

/** model-runner's answer while it runs another request: RESOURCE_EXHAUSTED "Server busy". */
function isBusy(error: unknown): boolean {
  return error instanceof GrpcError && error.code === GrpcStatus.RESOURCE_EXHAUSTED && /busy/i.test(error.details);
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`;
}
