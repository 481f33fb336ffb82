import { resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const HEALTH_PROTO = resolve(import.meta.dirname, '..', 'proto', 'health.proto');

interface HealthCheckResponse {
  status: string;
}

type HealthClient = grpc.Client & {
  Check(
    request: { service: string },
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response?: HealthCheckResponse) => void,
  ): grpc.ClientUnaryCall;
};

type HealthClientConstructor = new (address: string, credentials: grpc.ChannelCredentials) => HealthClient;

let healthClientConstructor: HealthClientConstructor | undefined;

function healthClient(): HealthClientConstructor {
  if (!healthClientConstructor) {
    const definition = protoLoader.loadSync(HEALTH_PROTO, { enums: String, keepCase: true });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: { health: { v1: { Health: HealthClientConstructor } } };
    };
    healthClientConstructor = loaded.grpc.health.v1.Health;
  }
  return healthClientConstructor;
}

/** One `grpc.health.v1.Health/Check` for service "": the status name, or the error's message. */
export function checkHealth(host: string, port: number, timeoutMs: number): Promise<string> {
  const Client = healthClient();
  const client = new Client(`${host}:${port}`, grpc.credentials.createInsecure());
  return new Promise<string>((resolvePromise) => {
    client.Check({ service: '' }, { deadline: Date.now() + timeoutMs }, (error, response) => {
      client.close();
      resolvePromise(error ? `error: ${error.details || error.message}` : (response?.status ?? 'UNKNOWN'));
    });
  });
}

export interface WaitServingOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Gives up early (e.g. the process exited): the wait then resolves false. */
  signal?: AbortSignal;
}

/** Polls the health check until it answers SERVING (true) or the time is up or the signal fires (false). */
export async function waitServing(host: string, port: number, options: WaitServingOptions): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 250;
  while (Date.now() < deadline && !options.signal?.aborted) {
    const status = await checkHealth(host, port, Math.min(2_000, Math.max(1, deadline - Date.now())));
    if (status === 'SERVING') return true;
    await new Promise((done) => setTimeout(done, interval));
  }
  return false;
}
