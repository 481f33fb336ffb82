// An in-process stand-in for a model-runner process, with scripted answers: for tests (and
// benchmarks) of code that calls models where real Python adds nothing. Like the real server it
// runs one Setup/Call at a time and refuses a concurrent one with RESOURCE_EXHAUSTED "Server busy".
import {
  type handleUnaryCall,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type sendUnaryData,
  status,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import {
  type CallRequest,
  type CallResponse,
  dynamicSubclassService,
  healthService,
  ServingStatus,
  type SetupRequest,
  type SetupResponse,
  type WireArgument,
  type WireKwArgument,
} from '../proto.js';
import type { Value } from '../types.js';
import { decodeVariant, encodeVariant } from '../variant.js';

export type FakeAnswer =
  /** SUCCESS with this value (null: no methodResponse, as Python's None). */
  | { value: Value }
  /** SUCCESS with these exact variant bytes. */
  | { variant: { type: number; value: Buffer } }
  /** A model-runner status code other than SUCCESS, e.g. MODEL_FAILED or BAD_IMPLEMENTATION. */
  | { status: string; message?: string }
  /** The RPC itself fails with this gRPC status code. */
  | { grpcError: number; details?: string };

export interface FakeCall {
  method: string;
  args: Value[];
  kwargs: Record<string, Value>;
}

export interface FakeSetup {
  className: string;
  args: Value[];
  kwargs: Record<string, Value>;
}

export interface FakeModelBehaviour {
  setup?: (request: FakeSetup) => FakeAnswer | Promise<FakeAnswer>;
  call?: (request: FakeCall) => FakeAnswer | Promise<FakeAnswer>;
  health?: () => 'SERVING' | 'NOT_SERVING' | { grpcError: number } | Promise<'SERVING' | 'NOT_SERVING'>;
}

export interface FakeModelServerOptions {
  behaviour?: FakeModelBehaviour;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
}

export interface FakeModelServer {
  readonly host: string;
  readonly port: number;
  /** Every Call received (busy refusals included), in order. */
  readonly calls: FakeCall[];
  readonly setups: FakeSetup[];
  readonly healthChecks: number;
  /** Calls refused because another was running. */
  readonly busyRefusals: number;
  /** The most Setup/Call requests that ever ran at the same time (1 unless something overlapped). */
  readonly maxConcurrent: number;
  setBehaviour(behaviour: FakeModelBehaviour): void;
  /** Stops at once; calls in flight fail. */
  stop(): Promise<void>;
}

const defaultBehaviour: Required<FakeModelBehaviour> = {
  setup: () => ({ value: null }),
  call: () => ({ value: null }),
  health: () => 'SERVING',
};

export async function startFakeModelServer(options: FakeModelServerOptions = {}): Promise<FakeModelServer> {
  const host = options.host ?? '127.0.0.1';
  let behaviour = { ...defaultBehaviour, ...options.behaviour };
  const calls: FakeCall[] = [];
  const setups: FakeSetup[] = [];
  let healthChecks = 0;
  let busyRefusals = 0;
  let running = 0;
  let maxConcurrent = 0;

  /** Runs one exclusive request, or refuses it while another runs. */
  async function exclusive<T>(callback: sendUnaryData<T>, work: () => Promise<T>): Promise<void> {
    if (running > 0) {
      busyRefusals++;
      callback({ code: status.RESOURCE_EXHAUSTED, details: 'Server busy' });
      return;
    }
    running++;
    maxConcurrent = Math.max(maxConcurrent, running);
    try {
      callback(null, await work());
    } catch (error) {
      const failure = error as { grpcError?: number; details?: string; message?: string };
      callback({ code: failure.grpcError ?? status.INTERNAL, details: failure.details ?? failure.message ?? 'error' });
    } finally {
      running--;
    }
  }

  const Setup: handleUnaryCall<SetupRequest, SetupResponse> = (
    call: ServerUnaryCall<SetupRequest, SetupResponse>,
    callback,
  ) => {
    void exclusive(callback, async () => {
      const request: FakeSetup = {
        className: call.request.className,
        ...decodeArguments(call.request.instanceArguments, call.request.instanceKwArguments),
      };
      setups.push(request);
      const answer = await behaviour.setup(request);
      const response = toResponse(answer);
      return { status: response.status };
    });
  };

  const Call: handleUnaryCall<CallRequest, CallResponse> = (call, callback) => {
    const request: FakeCall = {
      method: call.request.methodName,
      ...decodeArguments(call.request.methodArguments, call.request.methodKwArguments),
    };
    calls.push(request);
    void exclusive(callback, async () => toResponse(await behaviour.call(request)));
  };

  const Check: handleUnaryCall<{ service: string }, { status: number }> = (_call, callback) => {
    healthChecks++;
    Promise.resolve(behaviour.health()).then(
      (answer) => {
        if (typeof answer === 'object') callback({ code: answer.grpcError, details: 'health check failed' });
        else callback(null, { status: answer === 'SERVING' ? ServingStatus.SERVING : ServingStatus.NOT_SERVING });
      },
      (error: Error) => callback({ code: status.INTERNAL, details: error.message }),
    );
  };

  const server = new Server();
  server.addService(dynamicSubclassService, {
    Setup,
    Call,
    Rest: ((_call: unknown, callback: sendUnaryData<SetupResponse>) =>
      callback(null, { status: { code: 'SUCCESS', message: '' } })) as UntypedServiceImplementation[string],
  } as UntypedServiceImplementation);
  server.addService(healthService, {
    Check,
    Watch: (call: { emit: (event: string, error: unknown) => void }) =>
      call.emit('error', { code: status.UNIMPLEMENTED, details: 'Watch is not served' }),
  } as UntypedServiceImplementation);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${options.port ?? 0}`, ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });

  return {
    host,
    port,
    calls,
    setups,
    get healthChecks() {
      return healthChecks;
    },
    get busyRefusals() {
      return busyRefusals;
    },
    get maxConcurrent() {
      return maxConcurrent;
    },
    setBehaviour(next) {
      behaviour = { ...defaultBehaviour, ...next };
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}

function decodeArguments(
  args: WireArgument[],
  kwargs: WireKwArgument[],
): { args: Value[]; kwargs: Record<string, Value> } {
  return {
    args: [...args].sort((a, b) => a.position - b.position).map((arg) => decodeVariant(arg.data)),
    kwargs: Object.fromEntries(kwargs.map((kwarg) => [kwarg.keyword, decodeVariant(kwarg.data)])),
  };
}

function toResponse(answer: FakeAnswer): CallResponse {
  if ('grpcError' in answer) throw answer;
  if ('status' in answer)
    return { status: { code: answer.status, message: answer.message ?? '' }, methodResponse: null };
  const ok = { code: 'SUCCESS', message: '' };
  if ('variant' in answer) return { status: ok, methodResponse: answer.variant };
  return { status: ok, methodResponse: answer.value === null ? null : encodeVariant(answer.value) };
}
