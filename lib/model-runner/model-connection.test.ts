// What a call gets when the model's process exits in the middle of it, with either transport: FAILED
// at once with the reason, counted, and the model set up again (reported CONNECTION_FAILED when it
// does not come back). The process is real: a fake model server in a child process that exits.
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelRunnerClient } from './client.js';
import { modelTransports } from './grpc-channel.js';
import { type ExitingModelProcess, startExitingModelProcess } from './testing/exiting-model-process.js';
import type { ModelReport } from './types.js';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function exitingModel(): Promise<ExitingModelProcess> {
  const model = await startExitingModelProcess();
  cleanup.push(() => model.stop());
  return model;
}

describe.each(modelTransports)('with the %s transport', (transport) => {
  it('a model process that exits during a call gives FAILED at once, not a TIMEOUT at the deadline', async () => {
    const model = await exitingModel();
    const client = new ModelRunnerClient({
      className: 'condorgame.tracker.TrackerBase',
      models: [
        {
          modelId: 'crasher',
          deploymentId: 'crasher_1',
          name: 'crasher',
          cruncherId: 'c',
          cruncherName: 'c',
          ip: '127.0.0.1',
          port: model.port,
        },
      ],
      transport,
      connectAttempts: 2,
      connectBackoffMs: [50],
      channelReadyTimeoutMs: 300,
    });
    cleanup.push(() => client.close());
    await client.start();
    await client.waitForModels(1, 15_000);
    expect((await client.call('predict', [], { timeoutMs: 10_000 }))[0]?.status).toBe('SUCCESS');

    const reported = once(client, 'model-reported') as Promise<[ModelReport]>;
    // A deadline the test would never see the end of: the answer must come from the exit.
    const [crashed] = await client.call('crash', [], { timeoutMs: 600_000 });
    expect(crashed?.status).toBe('FAILED');
    expect(crashed?.error).toMatch(/^the model process exited during the call/);
    expect(await model.exited).toBe(3);
    // Its slot is not held: the model is being set up again, so the next round leaves it out at once.
    expect(client.models()).toEqual([]);
    expect(await client.call('predict', [], { timeoutMs: 600_000 })).toEqual([]);
    // Nothing answers at its address any more: after the attempts it is reported and dropped.
    const [report] = await reported;
    expect(report).toMatchObject({ failureCode: 'CONNECTION_FAILED', model: { modelId: 'crasher' } });
    expect(client.models()).toEqual([]);
  });
});
