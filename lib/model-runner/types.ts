import type { Logger } from '../log/index.js';
import type { ModelTransport } from './grpc-channel.js';
import type { ModelCredentials } from './security/credentials.js';

export type CallStatus = 'SUCCESS' | 'FAILED' | 'TIMEOUT';

/** Failure codes a coordinator reports to the orchestrator (docs/protocol.md#discovery). */
export type FailureCode = 'BAD_IMPLEMENTATION' | 'MULTIPLE_FAILED' | 'MULTIPLE_TIMEOUT' | 'CONNECTION_FAILED';

/** One model deployment as discovery announced it. */
export interface ModelInfo {
  modelId: string;
  deploymentId: string;
  name: string;
  cruncherId: string;
  cruncherName: string;
  cruncherWalletPubkey?: string | null;
  cruncherHotkey?: string | null;
  ip: string;
  port: number;
}

export interface CallResult<T = unknown> {
  model: ModelInfo;
  status: CallStatus;
  /** The decoded answer when SUCCESS (null for a Python `None`), else null. */
  value: T | null;
  /** Time spent in the gRPC call itself (queueing behind an earlier call to the same model excluded). */
  execTimeUs: number;
  /** Why the call did not succeed, in words. */
  error?: string;
  /**
   * With `decode: false`: the JSON answer as the model sent it (Python `json.dumps` text, which may
   * hold NaN/Infinity), for callers that store it as is or decode it later with decodeVariant().
   */
  raw?: { type: number; value: Buffer };
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** What call and Setup arguments may be. */
export type Value = null | number | bigint | string | boolean | JsonValue;

export type CallArguments = Value[] | { args?: Value[]; kwargs?: Record<string, Value> };

export interface CallOptions {
  /** Deadline for each model's answer, counted from the moment call() is invoked (waits included). */
  timeoutMs: number;
  /** Only these model ids (those of them that are connected); default: every connected model. */
  models?: string[];
  /**
   * Decode JSON answers into values (default true). False leaves them as bytes in `raw` (checked
   * to be UTF-8, not parsed): a fan-out to many models then skips building millions of JS objects
   * a caller that stores the text would only serialise again. Other types are always decoded.
   */
  decode?: boolean;
  /**
   * Labels (by default methods) of calls this one may wait behind when a model is still busy with one (within the
   * deadline), e.g. `['tick']` for a predict that follows the price tick. A model busy with any other
   * call gets this one as TIMEOUT at once ("still busy with its previous call"): nothing waits on a
   * slow model. Default: none.
   */
  waitBehind?: readonly string[];
  /** What this call is to `waitBehind` and in "still busy" reasons (default: the method name). */
  label?: string;
  /** Aborting ends every model's call at once (TIMEOUT "the call was cancelled", not counted). */
  signal?: AbortSignal;
  /** Called with each model's result as it comes, before call() resolves with all of them. */
  onResult?: (result: CallResult) => void;
}

export interface ModelReport {
  model: ModelInfo;
  failureCode: FailureCode;
  reason: string;
}

export interface ModelRunnerClientOptions {
  /** Orchestrator WebSocket, `ws://host:port/{crunchId}`. Either this or `models`. */
  discoveryUrl?: string;
  /** A fixed list of models instead of discovery (tests, benchmarks, hand-run set-ups). */
  models?: ModelInfo[];
  /** Dotted path of the game's base class, e.g. `condorgame.tracker.TrackerBase`. */
  className: string;
  /** Constructor arguments for the participant's class. */
  instanceArgs?: Value[] | { args?: Value[]; kwargs?: Record<string, Value> };
  /** Deadline of one Setup request (default 60 s). The reference client has none. */
  setupTimeoutMs?: number;
  /** Attempts to connect and set up a model before reporting CONNECTION_FAILED (default 5). */
  connectAttempts?: number;
  /** Waits between attempts (default 2, 4, 8, 16 s; the last one repeats if there are more attempts). */
  connectBackoffMs?: number[];
  /** How long one attempt waits for the channel to be ready (default 10 s). */
  channelReadyTimeoutMs?: number;
  /** Consecutive FAILED results tolerated before MULTIPLE_FAILED is reported (default 3; 0 disables). */
  maxConsecutiveFailures?: number;
  /** Consecutive TIMEOUT results tolerated before MULTIPLE_TIMEOUT is reported (default 3; 0 disables). */
  maxConsecutiveTimeouts?: number;
  /** Send failure reports to the orchestrator and drop the model (default true). Off: log only. */
  reportFailures?: boolean;
  /** First wait before reconnecting to discovery (default 10 s); doubles up to `maxReconnectDelayMs`, with jitter. */
  reconnectDelayMs?: number;
  /** Longest wait between discovery reconnects (default 60 s). */
  maxReconnectDelayMs?: number;
  /** Deadline of the health check that follows a timeout (default 5 s). */
  healthCheckTimeoutMs?: number;
  /** Pause before retrying a Setup the model refused as busy (default 50 ms); a busy Call is TIMEOUT at once. */
  busyRetryDelayMs?: number;
  /** Largest gRPC message sent or received (default 64 MiB, as the model-runner server). */
  maxMessageBytes?: number;
  /** Largest answer received, cut while it arrives (default `maxMessageBytes`): a game's answer size. */
  maxAnswerBytes?: number;
  /** `http2` (default): our own unary gRPC channel, the fastest; `grpc-js`: the @grpc/grpc-js library. */
  transport?: ModelTransport;
  /**
   * Production modes (loadModelCredentials): `secure` (mutual TLS to CrunchDAO's nodes, their signed
   * identity checked on every call) or `gateway` (TLS gateways, a signed token on every call).
   * None: plain gRPC, for models on the coordinator's own network. Both transports.
   */
  credentials?: ModelCredentials | null;
  /** WebSocket ping interval to detect a dead orchestrator connection (default 20 s; 0 disables). */
  discoveryPingIntervalMs?: number;
  logger?: Logger;
}

export interface ModelRunnerClientEvents {
  /** A deployment answered its first Setup: it is ready to call (and needs its full history). */
  'model-joined': [model: ModelInfo];
  /** A deployment that had joined is gone (stopped, replaced, reported, or the client closed). */
  'model-left': [model: ModelInfo, reason: string];
  /** A deployment that had joined was set up again after a reconnect (its instance may be new). */
  'model-reconnected': [model: ModelInfo];
  /** A failure report was made (and sent, or queued until discovery is back). */
  'model-reported': [report: ModelReport];
  'discovery-connected': [];
  'discovery-disconnected': [reason: string];
}
