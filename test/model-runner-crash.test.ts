// A real model-runner process killed in the middle of a predict call, with either transport: the
// call is FAILED at once ("the model process exited during the call"), not a TIMEOUT at its deadline,
// and the model no longer takes part in rounds until it is set up again.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelRunnerClient, modelTransports } from '../lib/model-runner/index.js';
import { startModelProcess, stopAllModelProcesses } from './support/model-processes.js';

afterAll(async () => {
  await stopAllModelProcesses();
});

describe.each(modelTransports)('with the %s transport', (transport) => {
  it('a model-runner process killed during a call gives FAILED at once', async () => {
    // It sleeps in predict long past the test's own timeout: only the kill can end the call in time.
    const model = await startModelProcess({
      submission: 'misbehaving',
      env: { MISBEHAVE: 'sleep', MISBEHAVE_SLEEP: '600' },
    });
    const client = new ModelRunnerClient({
      className: 'condorgame.tracker.TrackerBase',
      models: [
        {
          modelId: 'killed',
          deploymentId: `killed_${transport}`,
          name: 'killed',
          cruncherId: 'c',
          cruncherName: 'c',
          ip: '127.0.0.1',
          port: model.port,
        },
      ],
      transport,
      connectAttempts: 1,
    });
    try {
      await client.start();
      await client.waitForModels(1, 60_000);
      const call = client.call('predict', ['BTC', 3600, 60], { timeoutMs: 600_000 });
      // Let the call reach the Python code, then kill the whole process group without warning.
      await sleep(1_000);
      process.kill(-model.pid, 'SIGKILL');
      const [result] = await call;
      expect(result?.status, result?.error).toBe('FAILED');
      expect(result?.error).toMatch(/^the model process exited during the call/);
      expect(client.models()).toEqual([]);
    } finally {
      await client.close();
      await model.stop();
    }
  });
});
