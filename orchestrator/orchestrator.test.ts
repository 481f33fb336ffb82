// The orchestrator's state machine with a fake interpreter and fake model processes (fast); the
// real thing, with pip and model-runner, is exercised by test/orchestrator*.test.ts.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { Orchestrator, type OrchestratorOptions } from './orchestrator.js';
import { fakePython } from './testing/fake-python.js';
import { waitForModel } from './testing/harness.js';
import { portOpen, processRunning } from './testing/processes.js';

describe('Orchestrator (fake model processes)', () => {
  let root: string;
  let submissions: string;
  let orchestrator: Orchestrator | undefined;

  const submission = (id: string, files: Record<string, string> = {}): void => {
    mkdirSync(join(submissions, id), { recursive: true });
    const all = { 'main.py': 'class M: pass\n', 'requirements.txt': 'condorgame==0.5.3\n', ...files };
    for (const [name, text] of Object.entries(all)) writeFileSync(join(submissions, id, name), text);
  };
  const start = async (options: Partial<OrchestratorOptions> = {}): Promise<Orchestrator> => {
    orchestrator = new Orchestrator({
      submissionsDir: submissions,
      port: 0,
      httpPort: null,
      python: fakePython(root),
      cacheDir: join(root, 'envs'),
      stateDir: join(root, 'state'),
      limits: { memoryBytes: null },
      // Fake interpreters and model processes: the sandbox is exercised by test/orchestrator-sandbox.test.ts.
      trustedSubmissions: true,
      watchIntervalMs: 50,
      stopGraceMs: 1_000,
      ...options,
    });
    await orchestrator.start();
    return orchestrator;
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'orchestrator-unit-'));
    submissions = join(root, 'submissions');
    mkdirSync(submissions);
  });
  afterEach(async () => {
    await orchestrator?.stop();
    orchestrator = undefined;
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses to start submissions without isolation unless they are marked trusted, and says why', async () => {
    submission('a');
    submission('b', { 'requirements.txt': 'condorgame==0.5.3\n--extra-index-url https://evil.example/simple\n' });
    const o = await start({
      trustedSubmissions: false,
      isolation: { kind: 'none', reason: 'bubblewrap (bwrap) is not installed' },
    });
    const failed = await waitForModel(o, 'a', (s) => s.phase === 'failed', 10_000);
    expect(failed.lastError).toMatch(/not started: bubblewrap \(bwrap\) is not installed.*--trusted-submissions/);
    expect(failed.pid).toBeNull();
    await o.stop();
    const trusted = await start({ allowRequirementOptions: false });
    const refused = await waitForModel(trusted, 'b', (s) => s.phase === 'failed', 10_000);
    expect(refused.lastError).toMatch(/requirements.txt is refused: line 2 .*is a pip option/);
    await waitForModel(trusted, 'a', (s) => s.phase === 'running', 30_000);
  });

  it('announces the advertised address, listening on every interface for model-calls workers on other hosts', async () => {
    submission('a');
    const o = await start({ advertiseHost: '10.20.30.40' });
    await waitForModel(o, 'a', (s) => s.phase === 'running', 30_000);
    const [state] = o.runningStates();
    expect(state?.ip).toBe('10.20.30.40');
    // Reached through this machine's other addresses too: it listens on 0.0.0.0.
    const external = Object.values(networkInterfaces())
      .flat()
      .find((address) => address && address.family === 'IPv4' && !address.internal);
    for (const host of ['127.0.0.1', ...(external ? [external.address] : [])]) {
      expect(await portOpen(state?.port ?? 0, host), host).toBe(true);
    }
  });

  it('restarts a crashing model with exponential backoff up to its cap, and runs it once fixed', async () => {
    submission('flaky', { crash: 'yes' });
    const o = await start({ restart: { initialDelayMs: 50, maxDelayMs: 200, stableAfterMs: 60_000 } });
    const runnerLog = () => readFileSync(join(root, 'state', 'models', 'flaky', 'runner.log'), 'utf8');
    // About 2 s; a failure shows the runner log (what each restart did, and when).
    await waitForModel(o, 'flaky', (s) => s.restarts >= 5, 30_000).catch((error: Error) => {
      throw new Error(`${error.message}\nrunner.log:\n${runnerLog().slice(-4_000)}`);
    });
    const log = runnerLog();
    const waits = [...log.matchAll(/restart (\d+) in (\d+) ms/g)].map((match) => Number(match[2]));
    expect(waits.slice(0, 5)).toEqual([50, 100, 200, 200, 200]);
    expect(log).toContain('fake model-runner: crashing on purpose');
    expect(o.model('flaky')?.lastError).toMatch(/exited with code 3 before its health check answered SERVING/);

    rmSync(join(submissions, 'flaky', 'crash'));
    const fixed = await waitForModel(o, 'flaky', (s) => s.phase === 'running', 20_000);
    expect(fixed.restarts).toBe(0);
    expect(o.runningStates().map((state) => state.model_id)).toEqual(['flaky']);
  }, 60_000);

  it('restarts even when its restart timer fires before the wall clock says the backoff is over', async () => {
    // Timers and Date.now() can disagree by a millisecond, which once left a model recovering forever
    // in the full suite. A wall clock at half speed makes every restart timer fire "early".
    const realNow = Date.now.bind(Date);
    const origin = realNow();
    const lagging = vi.spyOn(Date, 'now').mockImplementation(() => origin + Math.floor((realNow() - origin) / 2));
    try {
      submission('flaky', { crash: 'yes' });
      const o = await start({ restart: { initialDelayMs: 50, maxDelayMs: 100, stableAfterMs: 60_000 } });
      await waitForModel(o, 'flaky', (s) => s.restarts >= 3, 20_000);
      rmSync(join(submissions, 'flaky', 'crash'));
      await waitForModel(o, 'flaky', (s) => s.phase === 'running', 20_000);
    } finally {
      lagging.mockRestore();
    }
  });

  it('fails a submission without main.py or requirements.txt, and one whose build fails, without touching others', async () => {
    submission('good');
    submission('no-main');
    rmSync(join(submissions, 'no-main', 'main.py'));
    submission('no-requirements');
    rmSync(join(submissions, 'no-requirements', 'requirements.txt'));
    submission('broken', { 'requirements.txt': 'does-not-exist\n' });
    const o = await start();
    await waitForModel(o, 'good', (s) => s.phase === 'running', 10_000);
    const failed = await Promise.all(
      ['no-main', 'no-requirements', 'broken'].map((id) => waitForModel(o, id, (s) => s.phase === 'failed', 10_000)),
    );
    expect(failed.map((s) => s.lastError)).toEqual([
      'submission no-main has no main.py',
      'submission no-requirements has no requirements.txt',
      expect.stringMatching(/environment could not be built: pip install failed \(exit 1\)/),
    ]);
    expect(readFileSync(join(root, 'state', 'models', 'broken', 'build.log'), 'utf8')).toContain(
      'No matching distribution found for does-not-exist',
    );
    // Fixing the requirements is a submission change: it builds again and runs.
    writeFileSync(join(submissions, 'broken', 'requirements.txt'), 'condorgame==0.5.3\n');
    await waitForModel(o, 'broken', (s) => s.phase === 'running', 10_000);
  });

  it('keeps its models when the models file turns invalid, and says so', async () => {
    submission('a');
    const modelsFile = join(root, 'models.yml');
    writeFileSync(modelsFile, 'models:\n  - { id: model-a, submission_id: a }\n');
    const o = await start({ modelsFile });
    const running = await waitForModel(o, 'model-a', (s) => s.phase === 'running', 10_000);
    const warning = new Promise<string>((resolve) => o.once('warning', resolve));
    writeFileSync(modelsFile, 'models:\n  - { id: model-a, desired_state: NOPE }\n');
    expect(await warning).toMatch(
      /models\.yml: models\.0\.submission_id: is required; keeping the models as they were/,
    );
    expect(o.model('model-a')).toMatchObject({ phase: 'running', deploymentId: running.deploymentId });
    expect(processRunning(running.pid ?? 0)).toBe(true);
  });

  it('keeps a quarantine across restarts of the orchestrator', async () => {
    submission('a');
    const first = await start();
    await waitForModel(first, 'a', (s) => s.phase === 'running', 10_000);
    const coordinator = new WebSocket(first.discoveryUrl());
    await new Promise((resolve) => coordinator.once('open', resolve));
    coordinator.send(
      JSON.stringify({
        event: 'report_failure',
        data: [{ model_id: 'a', failure_code: 'BAD_IMPLEMENTATION', failure_reason: 'no subclass', ip: '127.0.0.1' }],
      }),
    );
    await waitForModel(first, 'a', (s) => s.phase === 'quarantined', 10_000);
    coordinator.close();
    await first.stop();

    const second = await start();
    const again = await waitForModel(second, 'a', (s) => s.phase === 'quarantined', 10_000);
    expect(again.quarantine).toEqual({ failureCode: 'BAD_IMPLEMENTATION', reason: 'no subclass' });
    expect(second.runningStates()).toEqual([]);
  });

  it('fails to start with a clear message when a port is taken, and leaves nothing listening', async () => {
    submission('a');
    const first = await start({ httpPort: 0 });
    const second = new Orchestrator({
      submissionsDir: submissions,
      port: 0,
      httpPort: first.httpPort,
      python: fakePython(root),
      cacheDir: join(root, 'envs'),
      stateDir: join(root, 'state-2'),
    });
    await expect(second.start()).rejects.toThrow(/the HTTP API cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    const discoveryPort = second.port;
    expect(discoveryPort).toBeGreaterThan(0);
    await expect(fetch(`http://127.0.0.1:${discoveryPort}/x`)).rejects.toThrow();
    await second.stop();
  });

  it('refuses to start without its submissions directory or with an unreadable models file', async () => {
    await expect(start({ submissionsDir: join(root, 'missing') })).rejects.toThrow(
      /submissions directory .* does not exist/,
    );
    await orchestrator?.stop();
    await expect(start({ modelsFile: join(root, 'missing.yml') })).rejects.toThrow(
      /cannot read the models file .*missing\.yml: ENOENT/,
    );
  });
});
