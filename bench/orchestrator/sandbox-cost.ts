// The sandbox's cost, measured side by side with the same models run unsandboxed (trusted), so that
// the load of a shared machine weighs on both alike: start-ups alternate between the two modes, and
// calls alternate between a sandboxed model and an unsandboxed one running at the same time.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ModelRunnerClient } from '../../lib/model-runner/index.js';
import { Orchestrator } from '../../orchestrator/index.js';
import { waitForModel } from '../../orchestrator/testing/harness.js';

export type Mode = 'sandboxed' | 'trusted';

export interface SandboxCost {
  /** Start to every model RUNNING, per round. */
  startsMs: Record<Mode, number[]>;
  /** One `predict` call at a time through our client, after warm-up. */
  callsUs: Record<Mode, number[]>;
}

const running = async (orchestrator: Orchestrator, ids: string[]): Promise<void> => {
  await Promise.all(ids.map((id) => waitForModel(orchestrator, id, (s) => s.phase === 'running', 600_000)));
};

export async function measureSandboxCost(options: {
  submissions: string;
  root: string;
  cacheDir: string;
  ids: string[];
  rounds: number;
  calls: number;
}): Promise<SandboxCost> {
  const { submissions, root, cacheDir, ids } = options;
  const orchestrators: Record<Mode, Orchestrator | undefined> = { sandboxed: undefined, trusted: undefined };
  const cost: SandboxCost = { startsMs: { sandboxed: [], trusted: [] }, callsUs: { sandboxed: [], trusted: [] } };
  const open = (mode: Mode, round: number): Orchestrator =>
    new Orchestrator({
      submissionsDir: submissions,
      port: 0,
      httpPort: null,
      cacheDir,
      stateDir: join(root, `state-${mode}-${round}`),
      watchIntervalMs: 100,
      trustedSubmissions: mode === 'trusted',
    });
  const clients: ModelRunnerClient[] = [];
  try {
    for (let round = 0; round < options.rounds; round++) {
      const order: Mode[] = round % 2 === 0 ? ['sandboxed', 'trusted'] : ['trusted', 'sandboxed'];
      for (const mode of order) {
        await orchestrators[mode]?.stop();
        const orchestrator = open(mode, round);
        orchestrators[mode] = orchestrator;
        const begin = performance.now();
        await orchestrator.start();
        await running(orchestrator, ids);
        cost.startsMs[mode].push(performance.now() - begin);
        // Only the last round's pair stays up, for the calls; the other mode starts alone.
        if (round < options.rounds - 1) {
          await orchestrator.stop();
          orchestrators[mode] = undefined;
        }
      }
    }
    const target = ids[0] as string;
    const byMode = {} as Record<Mode, ModelRunnerClient>;
    for (const mode of ['sandboxed', 'trusted'] as const) {
      const orchestrator = orchestrators[mode];
      if (!orchestrator) throw new Error(`no ${mode} orchestrator`);
      const client = new ModelRunnerClient({
        discoveryUrl: orchestrator.discoveryUrl(),
        className: 'condorgame.tracker.TrackerBase',
        reconnectDelayMs: 100,
      });
      clients.push(client);
      await client.start();
      await client.waitForModels(ids.length, 60_000);
      byMode[mode] = client;
    }
    for (let i = 0; i < options.calls + 10; i++) {
      for (const mode of ['sandboxed', 'trusted'] as const) {
        const begin = performance.now();
        const [result] = await byMode[mode].call('predict', ['BTC', 3600, 300], {
          timeoutMs: 30_000,
          models: [target],
        });
        if (result?.status !== 'SUCCESS') throw new Error(`${mode} predict did not succeed: ${result?.error}`);
        // The first calls warm up the channels and the models.
        if (i >= 10) cost.callsUs[mode].push((performance.now() - begin) * 1000);
      }
    }
    return cost;
  } finally {
    for (const client of clients) await client.close();
    for (const orchestrator of Object.values(orchestrators)) await orchestrator?.stop();
  }
}
