// The wire contract, loaded at run time from proto/*.proto (see proto/README.md).
import { resolve } from 'node:path';
import type { MethodDefinition, ServiceDefinition } from '@grpc/proto-loader';
import { loadSync } from '@grpc/proto-loader';

export const protoDirectory = resolve(import.meta.dirname, '..', '..', 'proto');

const definitions = loadSync(['dynamic_subclass.proto', 'health.proto'], {
  includeDirs: [protoDirectory],
  // Field names as the .proto files spell them (methodName, not method_name).
  keepCase: true,
  enums: Number,
  longs: String,
  // Unset message fields decode as null and scalars as their defaults, as Python reads them.
  defaults: true,
  oneofs: true,
});

export interface WireVariant {
  type: number;
  value: Buffer;
}

export interface WireStatus {
  code: string;
  message: string;
}

export interface WireArgument {
  position: number;
  data: WireVariant;
}

export interface WireKwArgument {
  keyword: string;
  data: WireVariant;
}

export interface SetupRequest {
  className: string;
  instanceArguments: WireArgument[];
  instanceKwArguments: WireKwArgument[];
}

export interface SetupResponse {
  status: WireStatus | null;
}

export interface CallRequest {
  methodName: string;
  methodArguments: WireArgument[];
  methodKwArguments: WireKwArgument[];
}

export interface CallResponse {
  status: WireStatus | null;
  methodResponse: WireVariant | null;
}

export interface HealthCheckResponse {
  status: number;
}

export const ServingStatus = { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } as const;

/** The status codes model-runner writes in `Status.code` (the gRPC status itself stays OK). */
export const ModelStatusCode = {
  SUCCESS: 'SUCCESS',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  FAILED_PRECONDITION: 'FAILED_PRECONDITION',
  BAD_IMPLEMENTATION: 'BAD_IMPLEMENTATION',
  SETUP_FAILED: 'SETUP_FAILED',
  MODEL_FAILED: 'MODEL_FAILED',
  UNKNOWN: 'UNKNOWN',
} as const;

function service(name: string): ServiceDefinition {
  const found = definitions[name];
  if (!found || !('Setup' in found || 'Check' in found)) throw new Error(`proto service ${name} is missing`);
  return found as ServiceDefinition;
}

export const dynamicSubclassService = service('dynamic_subclass.DynamicSubclassService');
export const healthService = service('grpc.health.v1.Health');

function method<Req, Res>(owner: ServiceDefinition, name: string): MethodDefinition<Req, Res> {
  const found = owner[name];
  if (!found) throw new Error(`proto method ${name} is missing`);
  return found as unknown as MethodDefinition<Req, Res>;
}

export const setupMethod = method<SetupRequest, SetupResponse>(dynamicSubclassService, 'Setup');
export const callMethod = method<CallRequest, CallResponse>(dynamicSubclassService, 'Call');
export const healthCheckMethod = method<{ service: string }, HealthCheckResponse>(healthService, 'Check');

/** Serialised once and sent as is to every model of a fan-out. */
export function serializeCallRequest(request: CallRequest): Buffer {
  return callMethod.requestSerialize(request);
}

export function serializeSetupRequest(request: SetupRequest): Buffer {
  return setupMethod.requestSerialize(request);
}
