// The operator's check before going live (`coordinator probe`): connect to each model as a
// coordinator would (in its mode), run Setup and a health check, and say per model what went wrong.
// Nothing is reported to the orchestrator: a probe must not get anybody's model stopped.
import { createLogger, type Logger } from '../log/index.js';
import { type ConnectionOwner, type ConnectionSettings, ModelConnection } from './model-connection.js';
import { serializeSetupRequest } from './proto.js';
import type { ModelCredentials } from './security/credentials.js';
import type { ModelInfo } from './types.js';

export interface ProbeOptions {
  /** Dotted path of the game's base class (Setup's className). */
  className: string;
  credentials: ModelCredentials | null;
  /** Bound of each step: connection, Setup, health check. */
  timeoutMs: number;
  logger?: Logger;
}

export interface ProbeResult {
  model_id: string;
  ok: boolean;
  error?: string;
}

/** Probes every model at once; one result per model, in the given order. */
export function probeModels(models: ModelInfo[], options: ProbeOptions): Promise<ProbeResult[]> {
  const settings: ConnectionSettings = {
    setupRequest: serializeSetupRequest({
      className: options.className,
      instanceArguments: [],
      instanceKwArguments: [],
    }),
    setupTimeoutMs: options.timeoutMs,
    connectAttempts: 1,
    connectBackoffMs: [0],
    channelReadyTimeoutMs: options.timeoutMs,
    healthCheckTimeoutMs: options.timeoutMs,
    busyRetryDelayMs: 50,
    maxMessageBytes: 64 * 1024 * 1024,
    transport: 'http2',
    limits: { maxConsecutiveFailures: 0, maxConsecutiveTimeouts: 0 },
    credentials: options.credentials,
  };
  const logger = options.logger ?? createLogger('probe');
  return Promise.all(models.map((model) => probeModel(model, settings, logger)));
}

function probeModel(model: ModelInfo, settings: ConnectionSettings, logger: Logger): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const failed = (error: string) => {
      connection.close();
      resolve({ model_id: model.modelId, ok: false, error });
    };
    const owner: ConnectionOwner = {
      modelReady: (ready) => {
        void ready.isServing().then((serving) => {
          if (!serving) return failed('Setup answered, but the health check did not answer SERVING');
          ready.close();
          resolve({ model_id: model.modelId, ok: true });
        });
      },
      reportModel: (_connection, code, reason) => failed(`${code}: ${reason}`),
      modelUnusable: (_connection, reason) => failed(reason),
    };
    const connection = new ModelConnection(model, settings, owner, logger);
    void connection.connect();
  });
}
