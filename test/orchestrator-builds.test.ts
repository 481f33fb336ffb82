// Environment builds for real: a requirement pip cannot install fails only its model (with pip's
// error in its build log), a removed submission stops, and a second start installs nothing.
import { cpSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Orchestrator, type OrchestratorOptions } from '../orchestrator/index.js';
import { copyExamples, FrameRecorder, type Workspace, waitForModel } from '../orchestrator/testing/harness.js';
import { processRunning } from '../orchestrator/testing/processes.js';
import { exampleSubmissions, repoRoot } from './support/tools.js';

const MISSING_PACKAGE = 'crunch-coordinator-no-such-package-on-pypi';

describe('orchestrator environment builds', () => {
  let workspace: Workspace;
  let first: Orchestrator | undefined;
  let second: Orchestrator | undefined;

  const options = (stateDir: string): OrchestratorOptions => ({
    submissionsDir: workspace.submissionsDir,
    port: 0,
    httpPort: 0,
    cacheDir: join(repoRoot, '.cache', 'test-envs'),
    stateDir,
    watchIntervalMs: 200,
    stopGraceMs: 2_000,
  });

  beforeAll(() => {
    workspace = copyExamples(exampleSubmissions, ['benchmark', 'mixture']);
    const broken = join(workspace.submissionsDir, 'broken');
    cpSync(join(exampleSubmissions, 'benchmark'), broken, { recursive: true });
    writeFileSync(join(broken, 'requirements.txt'), `${MISSING_PACKAGE}==1.0\ncondorgame==0.5.3\n`);
  });

  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    workspace?.remove();
  });

  it("fails only the model whose requirements cannot install, with pip's error in its build log", async () => {
    first = new Orchestrator(options(join(workspace.root, 'state-1')));
    await first.start();
    const [broken, benchmark] = await Promise.all([
      waitForModel(first, 'broken', (s) => s.phase === 'failed'),
      waitForModel(first, 'benchmark', (s) => s.phase === 'running'),
      waitForModel(first, 'mixture', (s) => s.phase === 'running'),
    ]);
    expect(broken.lastError).toMatch(/environment could not be built: pip install failed/);
    expect(broken.deploymentId).toBeNull();
    expect(benchmark.deploymentId).toMatch(/^benchmark_/);

    const response = await fetch(`http://127.0.0.1:${first.httpPort}/models/broken/logs?kind=build`);
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(new RegExp(`No matching distribution found for ${MISSING_PACKAGE}`));
    const models = (await (await fetch(`http://127.0.0.1:${first.httpPort}/models`)).json()) as Array<{
      id: string;
      phase: string;
    }>;
    expect(models.map((model) => [model.id, model.phase])).toEqual([
      ['benchmark', 'running'],
      ['broken', 'failed'],
      ['mixture', 'running'],
    ]);
    // Never announced: discovery clients only ever hear of models that run.
    const recorder = await FrameRecorder.connect(first.discoveryUrl());
    expect(
      recorder
        .states()
        .map((state) => state.model_id)
        .sort(),
    ).toEqual(['benchmark', 'mixture']);
    recorder.close();
  });

  it('stops a model whose submission folder is removed', async () => {
    if (!first) throw new Error('the first orchestrator did not start');
    const orchestrator = first;
    const recorder = await FrameRecorder.connect(orchestrator.discoveryUrl());
    const mixture = orchestrator.model('mixture');
    rmSync(join(workspace.submissionsDir, 'mixture'), { recursive: true });
    await recorder.waitFor(() =>
      recorder
        .states()
        .some((s) => s.model_id === 'mixture' && s.state === 'STOPPED' && s.deployment_id === mixture?.deploymentId),
    );
    await expect.poll(() => orchestrator.model('mixture')).toBeUndefined();
    await expect.poll(() => processRunning(mixture?.pid ?? 0)).toBe(false);
    recorder.close();
  });

  it('reuses every built environment on a second start: nothing is reinstalled', async () => {
    if (!first) throw new Error('the first orchestrator did not start');
    const built = first.model('benchmark')?.environment;
    if (!built) throw new Error('benchmark has no environment');
    const pids = first.models().flatMap((model) => (model.pid ? [model.pid] : []));
    await first.stop();
    first = undefined;
    for (const pid of pids) expect(processRunning(pid)).toBe(false);

    const stamp = join(built.dir, '.ready.json');
    const before = {
      dir: statSync(built.dir).mtimeMs,
      stamp: statSync(stamp).mtimeMs,
      bin: statSync(join(built.dir, 'bin')).mtimeMs,
    };
    const stateDir = join(workspace.root, 'state-2');
    second = new Orchestrator(options(stateDir));
    await second.start();
    const benchmark = await waitForModel(second, 'benchmark', (s) => s.phase === 'running');
    expect(benchmark.environment).toEqual({ hash: built.hash, dir: built.dir, reused: true });
    expect({
      dir: statSync(built.dir).mtimeMs,
      stamp: statSync(stamp).mtimeMs,
      bin: statSync(join(built.dir, 'bin')).mtimeMs,
    }).toEqual(before);
    const buildLog = readFileSync(join(stateDir, 'models', 'benchmark', 'build.log'), 'utf8');
    expect(buildLog).toMatch(new RegExp(`reusing environment ${built.hash}`));
    expect(buildLog).not.toMatch(/Collecting|Installing collected packages|pip install/);
  });
});
