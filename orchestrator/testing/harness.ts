// Helpers for the orchestrator's integration tests (test/orchestrator*.test.ts).
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { Orchestrator, OrchestratorOptions } from '../orchestrator.js';
import type { ModelState, ModelStatus } from '../types.js';

export interface Workspace {
  root: string;
  submissionsDir: string;
  stateDir: string;
  remove(): void;
}

/** A temporary folder with copies of the named example submissions, free to edit. */
export function copyExamples(examplesDir: string, names: string[]): Workspace {
  const root = mkdtempSync(join(tmpdir(), 'orchestrator-test-'));
  const submissionsDir = join(root, 'submissions');
  mkdirSync(submissionsDir);
  for (const name of names) cpSync(join(examplesDir, name), join(submissionsDir, name), { recursive: true });
  return {
    root,
    submissionsDir,
    stateDir: join(root, 'state'),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/**
 * What the integration tests' orchestrators share: the workspace's folders, any free ports, the
 * shared cache of real environments (.cache/test-envs, one pip build for every test file), fast rescans.
 */
export function workspaceOrchestratorOptions(workspace: Workspace) {
  return {
    submissionsDir: workspace.submissionsDir,
    port: 0,
    httpPort: 0,
    cacheDir: join(import.meta.dirname, '..', '..', '.cache', 'test-envs'),
    stateDir: workspace.stateDir,
    watchIntervalMs: 200,
  } satisfies OrchestratorOptions;
}

/** Resolves with the model's status once `predicate` holds; rejects after `timeoutMs` saying where it was. */
export function waitForModel(
  orchestrator: Orchestrator,
  id: string,
  predicate: (status: ModelStatus) => boolean,
  timeoutMs = 100_000,
): Promise<ModelStatus> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const status = orchestrator.model(id);
      if (!status || !predicate(status)) return false;
      cleanup();
      resolve(status);
      return true;
    };
    const onModel = (status: ModelStatus): void => {
      if (status.id === id) check();
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`model ${id} did not reach the expected state: ${JSON.stringify(orchestrator.model(id))}`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      orchestrator.off('model', onModel);
    };
    orchestrator.on('model', onModel);
    check();
  });
}

export type Frame = { event: 'init' | 'update'; data: ModelState[] } | { error: string };

/** A raw discovery client that keeps every frame it receives, in order. */
export class FrameRecorder {
  readonly frames: Frame[] = [];
  private readonly ws: WebSocket;
  private readonly listeners = new Set<() => void>();

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      for (const listener of this.listeners) listener();
    });
  }

  static async connect(url: string): Promise<FrameRecorder> {
    const ws = new WebSocket(url);
    const recorder = new FrameRecorder(ws);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    await recorder.waitFor((frames) => frames.length > 0, 10_000);
    return recorder;
  }

  /** Every model state received, in order, from init and update frames. */
  states(): ModelState[] {
    return this.frames.flatMap((frame) => ('data' in frame ? frame.data : []));
  }

  waitFor(predicate: (frames: Frame[]) => boolean, timeoutMs = 100_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate(this.frames)) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`frames never matched; received ${JSON.stringify(this.frames.slice(-10))}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  waitForState(modelId: string, state: ModelState['state'], notDeployment?: string, timeoutMs?: number): Promise<void> {
    return this.waitFor(
      () =>
        this.states().some(
          (entry) => entry.model_id === modelId && entry.state === state && entry.deployment_id !== notDeployment,
        ),
      timeoutMs,
    );
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  close(): void {
    this.ws.close();
  }
}

/**
 * The set of models a client following CrunchDAO's reference rules would hold after each frame:
 * init replaces the set; STOPPED/RECOVERING remove a model only for its current deployment;
 * RUNNING adds or replaces it.
 */
export function announcedSets(frames: Frame[]): Array<Map<string, ModelState>> {
  const sets: Array<Map<string, ModelState>> = [];
  let current = new Map<string, ModelState>();
  for (const frame of frames) {
    if (!('data' in frame)) continue;
    if (frame.event === 'init') current = new Map();
    else current = new Map(current);
    for (const state of frame.data) {
      const held = current.get(state.model_id);
      if (state.state === 'RUNNING') current.set(state.model_id, state);
      else if (held?.deployment_id === state.deployment_id) current.delete(state.model_id);
    }
    sets.push(current);
  }
  return sets;
}
