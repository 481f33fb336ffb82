// One model deployment: its gRPC channel, the connect-and-Setup attempts, the queue that keeps
// calls to it one at a time, and the result rules of docs/protocol.md#call-rules.
import { isUtf8 } from 'node:buffer';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log/index.js';
import { CallPolicy, type CallPolicyLimits } from './call-policy.js';
import { type GrpcChannel, GrpcError, GrpcStatus, Http2Channel, type ModelTransport } from './grpc-channel.js';
import { GrpcJsChannel } from './grpc-js-channel.js';
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
  /** Bookkeeping that must finish before the model's next call starts (health check after a timeout). */
  after?: () => Promise<void>;
}

const HEALTH_REQUEST = healthCheckMethod.requestSerialize({ service: '' });

export class ModelConnection {
  state: ConnectionState = 'connecting';
  readonly policy: CallPolicy;
  private channel: GrpcChannel | null = null;
  private queueTail: Promise<void> = Promise.resolve();
  /** Calls waiting or running; a new call waits (with a deadline timer) only when this is > 0. */
  private queued = 0;
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
    const message = response.status?.message ?? '';
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

  /** Drops the channel and sets the model up again on a new one; its counters start over. */
  reconnect(reason: string): void {
    if (this.state !== 'ready') return;
    this.log.warn({ model: this.info.modelId, reason }, `model ${this.info.modelId} is being reconnected: ${reason}`);
    this.state = 'connecting';
    this.dropChannel();
    this.policy.reset();
    void this.connect();
  }

  /**
   * Calls the model once its earlier calls are done. `deadline` (epoch ms) was fixed when the
   * fan-out started, so time spent waiting in the queue counts against it: a call whose deadline
   * passes while it waits ends as TIMEOUT at once. It never reached the model, so it does not
   * count against it (the call it waited for does).
   */
  call(request: Buffer, deadline: number, decode = true): Promise<CallResult> {
    return new Promise((resolve) => {
      let started = false;
      let expired = false;
      let timer: NodeJS.Timeout | undefined;
      if (this.queued > 0) {
        timer = setTimeout(() => {
          if (started) return;
          expired = true;
          const reason = 'the deadline passed while an earlier call to this model was still running';
          resolve(this.result('TIMEOUT', null, 0, reason));
        }, deadline - Date.now());
      }
      this.queued++;
      const run = async (): Promise<void> => {
        started = true;
        clearTimeout(timer);
        if (expired) return;
        let outcome: Outcome;
        try {
          outcome = await this.attempt(request, deadline, decode);
        } catch (error) {
          outcome = { result: this.result('FAILED', null, 0, `internal error: ${describeError(error)}`) };
        }
        resolve(outcome.result);
        await outcome.after?.().catch((error: unknown) => {
          this.log.error({ model: this.info.modelId, err: error }, 'bookkeeping after a call failed');
        });
      };
      this.queueTail = this.queueTail.then(run).finally(() => {
        this.queued--;
      });
    });
  }

  private async attempt(request: Buffer, deadline: number, decode: boolean): Promise<Outcome> {
    if (this.state !== 'ready') {
      // Reconnecting or gone: that is already being dealt with, so this does not count.
      const why = this.state === 'connecting' ? 'is reconnecting' : 'is no longer connected';
      return { result: this.result('TIMEOUT', null, 0, `model ${why}`) };
    }
    const afterTimeout = () => this.afterTimeout();
    if (this.policy.shouldSkip()) {
      const reason = `skipped: resting after ${this.policy.consecutiveTimeouts} timeouts in a row`;
      return { result: this.result('TIMEOUT', null, 0, reason), after: afterTimeout };
    }
    if (Date.now() >= deadline) {
      const reason = 'the deadline passed while an earlier call to this model was still running';
      return { result: this.result('TIMEOUT', null, 0, reason), after: afterTimeout };
    }

    const started = process.hrtime.bigint();
    const elapsedUs = () => Number((process.hrtime.bigint() - started) / 1000n);
    let response: CallResponse;
    try {
      response = await this.untilNotBusy(callMethod.path, request, callMethod.responseDeserialize, deadline);
    } catch (error) {
      if (isAuthenticationFailure(error)) {
        // The node's identity no longer holds (or it refuses ours): not a slow model, a node not to trust.
        const reason = `authentication failed: ${authenticationReason(error)}`;
        this.owner.reportModel(this, 'CONNECTION_FAILED', reason);
        return { result: this.result('FAILED', null, elapsedUs(), reason) };
      }
      return { result: this.result('TIMEOUT', null, elapsedUs(), describeError(error)), after: afterTimeout };
    }
    const execTimeUs = elapsedUs();

    const code = response.status?.code ?? ModelStatusCode.UNKNOWN;
    const message = response.status?.message ?? '';
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

  private failed(reason: string, execTimeUs: number): CallResult {
    if (this.policy.recordFailure()) {
      const count = this.policy.consecutiveFailures;
      this.owner.reportModel(this, 'MULTIPLE_FAILED', `${count} failed calls in a row; the last: ${reason}`);
    }
    return this.result('FAILED', null, execTimeUs, reason);
  }

  /** A timeout counts only if the model's process still answers its health check. */
  private async afterTimeout(): Promise<void> {
    if (this.state !== 'ready') return;
    const serving = await this.isServing();
    if (this.state !== 'ready') return;
    if (!serving) {
      this.reconnect('its health check did not answer SERVING after a timeout');
      return;
    }
    if (this.policy.recordTimeout()) {
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
    if (error !== undefined) result.error = error;
    return result;
  }

  /** A channel to the model; in secure mode after the TLS probe of the node (security/). */
  private async newChannel(): Promise<GrpcChannel> {
    const { credentials } = this.settings;
    const options = {
      maxMessageBytes: this.settings.maxMessageBytes,
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
  ): Promise<T> {
    if (!this.channel) throw new Error('the channel is closed');
    return deserialize(await this.channel.unary(path, request, { deadline, waitForReady }));
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
