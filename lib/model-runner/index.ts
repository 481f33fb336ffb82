// The TypeScript ModelRunner client: discovery, one gRPC channel per model, concurrent calls.
export { ModelRunnerClient, toModelInfo } from './client.js';
export { type DiscoveryMessage, type FailureReport, type ModelState, parseDiscoveryMessage } from './discovery.js';
export { CallDroppedError, GrpcError, GrpcStatus, type ModelTransport, modelTransports } from './grpc-channel.js';
export { capModelText, MAX_MODEL_TEXT_CHARS } from './model-text.js';
export { type ProbeResult, probeModels } from './probe.js';
export { parsePythonJson, pythonJsonDumps } from './python-json.js';
export {
  CredentialsError,
  type GatewayCredentials,
  loadModelCredentials,
  type ModelCredentials,
  type SecureCredentials,
} from './security/credentials.js';
export type {
  CallArguments,
  CallOptions,
  CallResult,
  CallStatus,
  FailureCode,
  JsonValue,
  ModelInfo,
  ModelReport,
  ModelRunnerClientEvents,
  ModelRunnerClientOptions,
  Value,
} from './types.js';
export { decodeVariant, encodeVariant, type Variant, VariantDecodeError, VariantType } from './variant.js';
