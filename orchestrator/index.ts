export { CappedLog } from './capped-log.js';
export { deploymentId } from './deployment-id.js';
export { crunchIdOf, DiscoveryServer, type DiscoveryServerOptions } from './discovery-server.js';
export {
  buildEnvironment,
  type Environment,
  EnvironmentBuildError,
  EnvironmentCache,
  type EnvironmentCacheOptions,
  RUNNER_REQUIREMENTS,
} from './environments.js';
export { checkHealth, waitServing } from './health-check.js';
export { buildHttpApi, type LogKind } from './http-api.js';
export type { RestartPolicy } from './model-supervisor.js';
export { desiredModels, type ModelsFileEntry, parseModelsFile, readModelsFile } from './models-file.js';
export {
  DEFAULT_RESTART,
  Orchestrator,
  type OrchestratorEvents,
  type OrchestratorOptions,
} from './orchestrator.js';
export { findPython, type PythonInterpreter } from './python.js';
export { refusedRequirement } from './requirements-check.js';
export { DEFAULT_LIMITS, modelEnvironment, type ResourceLimits } from './runner-process.js';
export { cgroupsV2Status, detectIsolation, type Isolation, sandboxCommand, sandboxUid } from './sandbox.js';
export { SocketProxy } from './socket-proxy.js';
export { type Submission, scanSubmissions } from './submissions.js';
export type {
  AnnouncedState,
  DesiredState,
  FailureReport,
  ModelInfos,
  ModelPhase,
  ModelSpec,
  ModelState,
  ModelStatus,
} from './types.js';
