// CrunchDAO's own coordinator client (model-runner-client 0.14.0, DynamicSubclassModelConcurrentRunner)
// against our orchestrator: it must find the models, set them up and get SUCCESS predictions.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Orchestrator } from '../orchestrator/index.js';
import { copyExamples, type Workspace, waitForModel } from '../orchestrator/testing/harness.js';
import { exampleSubmissions, repoRoot, toolsPython } from './support/tools.js';

const run = promisify(execFile);
const referenceClient = join(repoRoot, 'orchestrator', 'testing', 'reference_client.py');

describe("CrunchDAO's reference client against the local orchestrator", () => {
  let workspace: Workspace;
  let orchestrator: Orchestrator;

  beforeAll(async () => {
    workspace = copyExamples(exampleSubmissions, ['benchmark', 'mixture']);
    orchestrator = new Orchestrator({
      submissionsDir: workspace.submissionsDir,
      port: 0,
      httpPort: null,
      cacheDir: join(repoRoot, '.cache', 'test-envs'),
      stateDir: workspace.stateDir,
      stopGraceMs: 2_000,
    });
    await orchestrator.start();
    await Promise.all(
      ['benchmark', 'mixture'].map((id) => waitForModel(orchestrator, id, (s) => s.phase === 'running', 170_000)),
    );
  });
  afterAll(async () => {
    await orchestrator?.stop();
    workspace?.remove();
  });

  it('discovers every model and gets SUCCESS predictions from the example trackers', async () => {
    const { stdout } = await run(
      toolsPython(),
      [referenceClient, '127.0.0.1', String(orchestrator.port), orchestrator.crunchId, '2'],
      { timeout: 100_000 },
    );
    const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<
      string,
      { status: string; densities: number | null; deployment_id: string }
    >;
    expect(report).toEqual({
      benchmark: { status: 'SUCCESS', densities: 12, deployment_id: orchestrator.model('benchmark')?.deploymentId },
      mixture: { status: 'SUCCESS', densities: 12, deployment_id: orchestrator.model('mixture')?.deploymentId },
    });
  });
});
