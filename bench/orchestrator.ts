// How long the local orchestrator takes to bring models up, restart one after SIGKILL and redeploy an
// edited one, against the baseline of starting a bare model-runner until its health check answers;
// and what the sandbox costs: start-up and call latency through its proxy, against the same models
// run unsandboxed (trusted) in the same run.
// `npm run bench -- orchestrator [--models N] [--rounds N] [--calls N] [--cache-dir DIR]` (default 4 models, 3 rounds, 200 calls).
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CappedLog } from '../orchestrator/capped-log.js';
import { waitServing } from '../orchestrator/health-check.js';
import { Orchestrator } from '../orchestrator/index.js';
import { freePort } from '../orchestrator/ports.js';
import { DEFAULT_LIMITS, modelEnvironment, RunnerProcess } from '../orchestrator/runner-process.js';
import { waitForModel } from '../orchestrator/testing/harness.js';
import { measureSandboxCost } from './orchestrator/sandbox-cost.js';
import { median } from './support/figures.js';

const repoRoot = resolve(import.meta.dirname, '..');

const option = (args: string[], name: string, fallback: string): string => {
  const index = args.indexOf(name);
  return index >= 0 && args[index + 1] ? (args[index + 1] as string) : fallback;
};

export default async function orchestratorBench(args: string[]): Promise<Record<string, unknown>> {
  const count = Number(option(args, '--models', '4'));
  const rounds = Number(option(args, '--rounds', '3'));
  const calls = Number(option(args, '--calls', '200'));
  const cacheDir = resolve(option(args, '--cache-dir', join(repoRoot, '.cache', 'envs')));
  if (!(count >= 1 && rounds >= 1)) throw new Error('--models and --rounds must be at least 1');
  const root = mkdtempSync(join(tmpdir(), 'orchestrator-bench-'));
  const submissions = join(root, 'submissions');
  mkdirSync(submissions);
  const ids = Array.from({ length: count }, (_, i) => `benchmark-${i + 1}`);
  for (const id of ids)
    cpSync(join(repoRoot, 'examples', 'submissions', 'benchmark'), join(submissions, id), { recursive: true });
  const orchestrator = new Orchestrator({
    submissionsDir: submissions,
    port: 0,
    httpPort: null,
    cacheDir,
    stateDir: join(root, 'state'),
    watchIntervalMs: 100,
    restart: { initialDelayMs: 100 },
  });
  try {
    console.error(`starting ${count} models (a cold cache builds one environment first) ...`);
    let begin = performance.now();
    await orchestrator.start();
    await Promise.all(ids.map((id) => waitForModel(orchestrator, id, (s) => s.phase === 'running', 600_000)));
    const startAllMs = performance.now() - begin;
    const environment = orchestrator.model(ids[0] as string)?.environment;
    if (!environment) throw new Error('no environment');
    console.error(`  all running after ${startAllMs.toFixed(0)} ms (environment reused: ${environment.reused})`);

    const raw: number[] = [];
    const log = new CappedLog(join(root, 'raw.log'), { maxBytes: 1024 * 1024 });
    for (let round = 0; round < rounds; round++) {
      const port = await freePort();
      begin = performance.now();
      const child = new RunnerProcess({
        modelRunner: join(environment.dir, 'bin', 'model-runner'),
        codeDir: join(submissions, ids[0] as string),
        address: `127.0.0.1:${port}`,
        port,
        env: modelEnvironment(environment.dir, join(root, 'raw-home')),
        limits: DEFAULT_LIMITS,
        log,
      });
      const serving = await waitServing('127.0.0.1', port, { timeoutMs: 60_000, intervalMs: 50 });
      raw.push(performance.now() - begin);
      await child.stop();
      if (!serving) throw new Error('a bare model-runner did not serve');
    }
    log.close();
    console.error(`  bare model-runner to SERVING: ${raw.map((ms) => ms.toFixed(0)).join(', ')} ms`);

    const restarts: number[] = [];
    const redeploys: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const id = ids[round % ids.length] as string;
      const before = orchestrator.model(id);
      begin = performance.now();
      process.kill(before?.pid ?? 0, 'SIGKILL');
      await waitForModel(orchestrator, id, (s) => s.phase === 'running' && s.deploymentId !== before?.deploymentId);
      restarts.push(performance.now() - begin);

      const current = orchestrator.model(id)?.deploymentId;
      begin = performance.now();
      appendFileSync(join(submissions, id, 'main.py'), `\n# bench edit ${round}\n`);
      await waitForModel(orchestrator, id, (s) => s.phase === 'running' && s.deploymentId !== current);
      redeploys.push(performance.now() - begin);
    }
    console.error(`  SIGKILL to RUNNING again: ${restarts.map((ms) => ms.toFixed(0)).join(', ')} ms`);
    console.error(`  edit to new deployment RUNNING: ${redeploys.map((ms) => ms.toFixed(0)).join(', ')} ms`);

    begin = performance.now();
    await orchestrator.stop();
    const stopAllMs = performance.now() - begin;
    console.error(
      `the sandbox's cost: ${count} models sandboxed and unsandboxed, ${rounds} start-ups each, alternating ...`,
    );
    const cost = await measureSandboxCost({ submissions, root, cacheDir, ids, rounds, calls });
    const p99 = (values: number[]): number => [...values].sort((x, y) => x - y)[Math.floor(values.length * 0.99)] ?? 0;
    const startSandboxed = median(cost.startsMs.sandboxed);
    const startTrusted = median(cost.startsMs.trusted);
    const callSandboxed = median(cost.callsUs.sandboxed);
    const callTrusted = median(cost.callsUs.trusted);
    console.error(
      `  start to all RUNNING: sandboxed ${startSandboxed.toFixed(0)} ms, unsandboxed ${startTrusted.toFixed(0)} ms`,
    );
    console.error(
      `  predict (median): sandboxed ${callSandboxed.toFixed(0)} µs, unsandboxed ${callTrusted.toFixed(0)} µs`,
    );
    const rawMs = median(raw);
    return {
      sandboxedStartAllMs: Math.round(startSandboxed),
      trustedStartAllMs: Math.round(startTrusted),
      sandboxStartOverTrusted: Number((startSandboxed / startTrusted).toFixed(2)),
      sandboxedCallMedianUs: Math.round(callSandboxed),
      trustedCallMedianUs: Math.round(callTrusted),
      sandboxCallOverTrusted: Number((callSandboxed / callTrusted).toFixed(2)),
      sandboxedCallP99Us: Math.round(p99(cost.callsUs.sandboxed)),
      trustedCallP99Us: Math.round(p99(cost.callsUs.trusted)),
      calls,
      models: count,
      rounds,
      environmentReused: environment.reused,
      startAllMs: Math.round(startAllMs),
      bareModelRunnerStartMs: Math.round(rawMs),
      startAllOverBare: Number((startAllMs / rawMs).toFixed(2)),
      restartAfterKillMs: Math.round(median(restarts)),
      restartOverBare: Number((median(restarts) / rawMs).toFixed(2)),
      restartDelayConfiguredMs: 100,
      redeployMs: Math.round(median(redeploys)),
      redeployOverBare: Number((median(redeploys) / rawMs).toFixed(2)),
      watchIntervalMs: 100,
      stopAllMs: Math.round(stopAllMs),
    };
  } finally {
    await orchestrator.stop();
    rmSync(root, { recursive: true, force: true });
  }
}
