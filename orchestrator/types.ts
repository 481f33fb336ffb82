/** What discovery clients learn about a model's owner (docs/protocol.md#discovery). */
export interface ModelInfos {
  model_name: string;
  cruncher_id: string;
  cruncher_name: string;
  cruncher_wallet_pubkey: string;
  /** Always null in local mode: hotkeys exist only on CrunchDAO's network. */
  cruncher_hotkey: null;
}

export type AnnouncedState = 'RUNNING' | 'STOPPED' | 'RECOVERING';

/** One element of an `init` or `update` frame, field for field as CrunchDAO's orchestrator sends it. */
export interface ModelState {
  deployment_id: string;
  model_id: string;
  infos: ModelInfos;
  state: AnnouncedState;
  ip: string;
  port: number;
}

export type DesiredState = 'RUNNING' | 'STOPPED';

/** A model as the submissions folder and the models file ask for it. */
export interface ModelSpec {
  id: string;
  submissionId: string;
  crunchId: string;
  desiredState: DesiredState;
  infos: ModelInfos;
  /** Extra environment variables for the model process (ours; CrunchDAO's file has no such field). */
  env: Record<string, string>;
}

/** Where a model is in its life, as `GET /models` shows it. */
export type ModelPhase =
  | 'pending'
  | 'building'
  | 'starting'
  | 'running'
  | 'recovering'
  | 'stopped'
  | 'failed'
  | 'quarantined';

export interface ModelStatus {
  id: string;
  name: string;
  submissionId: string;
  crunchId: string;
  desiredState: DesiredState;
  phase: ModelPhase;
  deploymentId: string | null;
  port: number | null;
  pid: number | null;
  /** Restarts of the current deployment after its process died. */
  restarts: number;
  lastError: string | null;
  environment: { hash: string; dir: string; reused: boolean } | null;
  quarantine: { failureCode: string; reason: string | null } | null;
}

/** `report_failure` data element sent by coordinators. */
export interface FailureReport {
  model_id: string;
  failure_code: string;
  failure_reason?: string | null | undefined;
  ip?: string | undefined;
}
