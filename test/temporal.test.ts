import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchAttributes } from '../lib/temporal/index.js';
import { createTemporalTestEnv } from './support/temporal.js';

describe('the Temporal dev server from .venv', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTemporalTestEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('runs a TypeScript workflow bundled from sources and records its search attributes', async () => {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'smoke',
      workflowsPath: new URL('./fixtures/echo-workflow.ts', import.meta.url).pathname,
      activities: { shout: async (text: string) => text.toUpperCase() },
    });
    const result = await worker.runUntil(
      env.client.workflow.execute('echo', { taskQueue: 'smoke', workflowId: 'echo-1', args: ['hello'] }),
    );
    expect(result).toBe('HELLO');
    const description = await env.client.workflow.getHandle('echo-1').describe();
    expect(description.typedSearchAttributes.get(searchAttributes.modelsCalled)).toBe(5);
  });
});
