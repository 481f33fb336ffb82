// The local orchestrator end to end: real pip-built environments, real model-runner processes, the
// project's own ModelRunnerClient as the coordinator, and a raw WebSocket recording every frame.
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelRunnerClient } from '../lib/model-runner/index.js';
import { Orchestrator } from '../orchestrator/index.js';
import {
  announcedSets,
  copyExamples,
  FrameRecorder,
  type Workspace,
  waitForModel,
  workspaceOrchestratorOptions,
} from '../orchestrator/testing/harness.js';
import { processRunning } from '../orchestrator/testing/processes.js';
import { exampleSubmissions } from './support/tools.js';

const MODELS = ['benchmark', 'mixture', 'misbehaving'];
const PREDICT = ['BTC', 3600, 300];
const running = (status: { phase: string }) => status.phase === 'running';

describe('local orchestrator with example submissions', () => {
  let workspace: Workspace;
  let orchestrator: Orchestrator;
  let client: ModelRunnerClient;
  let recorder: FrameRecorder;
  let modelsFile: string;
  let behaviourFile: string;

  const writeModels = (mixtureState: 'RUNNING' | 'STOPPED'): void => {
    writeFileSync(
      modelsFile,
      [
        'models:',
        '  - { id: benchmark, submission_id: benchmark, cruncher_id: c1, cruncher_name: alice, model_name: Bench }',
        `  - { id: mixture, submission_id: mixture, cruncher_id: c2, cruncher_name: bob, desired_state: ${mixtureState} }`,
        '  - id: misbehaving',
        '    submission_id: misbehaving',
        '    cruncher_id: c3',
        `    env: { MISBEHAVE_FILE: "${behaviourFile}" }`,
        '',
      ].join('\n'),
    );
  };

  const deploymentOf = (id: string): string => orchestrator.model(id)?.deploymentId ?? '';

  beforeAll(async () => {
    workspace = copyExamples(exampleSubmissions, MODELS);
    modelsFile = join(workspace.root, 'models.yml');
    // Outside the submission, so changing the behaviour is not a code change (which would redeploy);
    // in a shared folder the sandboxed models may read.
    mkdirSync(join(workspace.root, 'shared'));
    behaviourFile = join(workspace.root, 'shared', 'behaviour');
    writeFileSync(behaviourFile, 'ok\n');
    writeModels('RUNNING');
    orchestrator = new Orchestrator({
      ...workspaceOrchestratorOptions(workspace),
      modelsFile,
      resources: [join(workspace.root, 'shared')],
      restart: { initialDelayMs: 200, maxDelayMs: 2_000 },
      stopGraceMs: 2_000,
    });
    await orchestrator.start();
    recorder = await FrameRecorder.connect(orchestrator.discoveryUrl());
    await Promise.all(MODELS.map((id) => waitForModel(orchestrator, id, running, 170_000)));
    client = new ModelRunnerClient({
      discoveryUrl: orchestrator.discoveryUrl(),
      className: 'condorgame.tracker.TrackerBase',
      reconnectDelayMs: 200,
      connectBackoffMs: [200, 400, 800],
      maxConsecutiveFailures: 1,
    });
    await client.start();
    await client.waitForModels(MODELS.length, 60_000);
  });

  afterAll(async () => {
    await client?.close();
    recorder?.close();
    await orchestrator?.stop();
    workspace?.remove();
  });

  it('announces each running model with the fields of docs/protocol.md#discovery and the models file infos', async () => {
    await recorder.waitFor(() => MODELS.every((id) => announcedSets(recorder.frames).at(-1)?.has(id)));
    const benchmark = announcedSets(recorder.frames).at(-1)?.get('benchmark');
    expect(Object.keys(benchmark ?? {}).sort()).toEqual(['deployment_id', 'infos', 'ip', 'model_id', 'port', 'state']);
    expect(benchmark).toMatchObject({
      deployment_id: expect.stringMatching(/^benchmark_\d{8}_\d{6}_\d{3}$/),
      model_id: 'benchmark',
      infos: {
        model_name: 'Bench',
        cruncher_id: 'c1',
        cruncher_name: 'alice',
        cruncher_wallet_pubkey: '',
        cruncher_hotkey: null,
      },
      state: 'RUNNING',
      ip: '127.0.0.1',
      port: orchestrator.model('benchmark')?.port,
    });
    // A client connecting now gets exactly the running models in its init.
    const late = await FrameRecorder.connect(orchestrator.discoveryUrl());
    expect(late.frames[0]).toMatchObject({ event: 'init' });
    expect(('data' in (late.frames[0] ?? {}) ? (late.frames[0] as { data: unknown[] }).data : []).length).toBe(3);
    late.close();
  });

  it('serves predictions from every example through lib/model-runner', async () => {
    const results = await client.call<unknown[]>('predict', PREDICT, { timeoutMs: 30_000 });
    expect(results.map((result) => [result.model.modelId, result.status]).sort()).toEqual([
      ['benchmark', 'SUCCESS'],
      ['misbehaving', 'SUCCESS'],
      ['mixture', 'SUCCESS'],
    ]);
    for (const result of results) expect(result.value).toHaveLength(12);
  });

  it('restarts a model killed with SIGKILL, re-announces it, and the client calls it again', async () => {
    const before = orchestrator.model('benchmark');
    if (!before?.pid || !before.deploymentId) throw new Error('benchmark is not running');
    process.kill(before.pid, 'SIGKILL');
    await recorder.waitForState('benchmark', 'RECOVERING');
    const after = await waitForModel(
      orchestrator,
      'benchmark',
      (s) => running(s) && s.deploymentId !== before.deploymentId,
    );
    expect(after.restarts).toBe(1);
    expect(after.lastError).toMatch(/killed by SIGKILL/);
    expect(after.pid).not.toBe(before.pid);
    expect(processRunning(before.pid)).toBe(false);
    await recorder.waitForState('benchmark', 'RUNNING', before.deploymentId);
    await expect
      .poll(() => client.models().find((model) => model.modelId === 'benchmark')?.deploymentId, { timeout: 60_000 })
      .toBe(after.deploymentId);
    const results = await client.call('predict', PREDICT, { timeoutMs: 30_000, models: ['benchmark'] });
    expect(results.map((result) => result.status)).toEqual(['SUCCESS']);
    expect(readFileSync(join(workspace.stateDir, 'models', 'benchmark', 'runner.log'), 'utf8')).toMatch(
      /killed by SIGKILL; restart 1/,
    );
  });

  it('redeploys an edited submission without a moment where the model is missing', async () => {
    const watcher = await FrameRecorder.connect(orchestrator.discoveryUrl());
    const old = deploymentOf('benchmark');
    appendFileSync(join(workspace.submissionsDir, 'benchmark', 'main.py'), '\n# edited by the redeploy test\n');
    await watcher.waitFor(() =>
      watcher.states().some((s) => s.model_id === 'benchmark' && s.state === 'STOPPED' && s.deployment_id === old),
    );
    const states = watcher.states().filter((s) => s.model_id === 'benchmark');
    const fresh = states.find((s) => s.state === 'RUNNING' && s.deployment_id !== old);
    expect(fresh?.deployment_id).toMatch(/^benchmark_\d{8}_\d{6}_\d{3}$/);
    const order = states.map((s) => `${s.state}:${s.deployment_id === old ? 'old' : 'new'}`);
    expect(order.indexOf('RUNNING:new')).toBeLessThan(order.indexOf('STOPPED:old'));
    for (const set of announcedSets(watcher.frames)) expect(set.has('benchmark')).toBe(true);
    expect(announcedSets(watcher.frames).at(-1)?.get('benchmark')?.deployment_id).toBe(fresh?.deployment_id);
    watcher.close();
    await expect
      .poll(() => client.models().find((model) => model.modelId === 'benchmark')?.deploymentId, { timeout: 60_000 })
      .toBe(fresh?.deployment_id);
    const results = await client.call('predict', PREDICT, { timeoutMs: 30_000, models: ['benchmark'] });
    expect(results.map((result) => result.status)).toEqual(['SUCCESS']);
  });

  it('honours desired_state: STOPPED stops the model, RUNNING brings it back as a new deployment', async () => {
    const old = deploymentOf('mixture');
    const pid = orchestrator.model('mixture')?.pid ?? 0;
    writeModels('STOPPED');
    await waitForModel(orchestrator, 'mixture', (s) => s.phase === 'stopped');
    await recorder.waitFor(() =>
      recorder.states().some((s) => s.model_id === 'mixture' && s.state === 'STOPPED' && s.deployment_id === old),
    );
    expect(processRunning(pid)).toBe(false);
    writeModels('RUNNING');
    const back = await waitForModel(orchestrator, 'mixture', running);
    expect(back.deploymentId).not.toBe(old);
  });

  it('quarantines a model reported as failing until its submission changes; CONNECTION_FAILED only redeploys', async () => {
    // The real client reports MULTIPLE_FAILED after two failed calls (maxConsecutiveFailures: 1).
    writeFileSync(behaviourFile, 'raise\n');
    const deployment = deploymentOf('misbehaving');
    const pid = orchestrator.model('misbehaving')?.pid ?? 0;
    for (let i = 0; i < 2; i++) {
      const [result] = await client.call('predict', PREDICT, { timeoutMs: 30_000, models: ['misbehaving'] });
      expect(result?.status).toBe('FAILED');
    }
    const quarantined = await waitForModel(orchestrator, 'misbehaving', (s) => s.phase === 'quarantined');
    expect(quarantined.quarantine?.failureCode).toBe('MULTIPLE_FAILED');
    await recorder.waitFor(() =>
      recorder
        .states()
        .some((s) => s.model_id === 'misbehaving' && s.state === 'STOPPED' && s.deployment_id === deployment),
    );
    expect(processRunning(pid)).toBe(false);
    // Rescans (every 200 ms) do not bring it back while the submission is unchanged.
    writeFileSync(behaviourFile, 'ok\n');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(orchestrator.model('misbehaving')?.phase).toBe('quarantined');

    const mixture = deploymentOf('mixture');
    recorder.send({
      event: 'report_failure',
      data: [{ model_id: 'mixture', failure_code: 'CONNECTION_FAILED', failure_reason: 'test', ip: '127.0.0.1' }],
    });
    const redeployed = await waitForModel(orchestrator, 'mixture', (s) => running(s) && s.deploymentId !== mixture);
    expect(redeployed.quarantine).toBeNull();

    appendFileSync(join(workspace.submissionsDir, 'misbehaving', 'main.py'), '\n# fixed\n');
    const lifted = await waitForModel(orchestrator, 'misbehaving', running);
    expect(lifted.quarantine).toBeNull();
    expect(lifted.deploymentId).not.toBe(deployment);
    await expect.poll(() => client.models().some((m) => m.modelId === 'misbehaving'), { timeout: 60_000 }).toBe(true);
    const [result] = await client.call('predict', PREDICT, { timeoutMs: 30_000, models: ['misbehaving'] });
    expect(result?.status).toBe('SUCCESS');
  });
});
