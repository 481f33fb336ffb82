import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CappedLog } from './capped-log.js';
import { buildHttpApi } from './http-api.js';
import type { ModelStatus } from './types.js';

const status: ModelStatus = {
  id: 'benchmark',
  name: 'benchmark',
  submissionId: 'benchmark',
  crunchId: 'condorgame',
  desiredState: 'RUNNING',
  phase: 'running',
  deploymentId: 'benchmark_20250101_000000_000',
  port: 50051,
  pid: 1234,
  restarts: 2,
  lastError: 'model process was killed by SIGKILL',
  environment: { hash: 'abc', dir: '/envs/abc', reused: true },
  quarantine: null,
};

describe('HTTP API', () => {
  let dir: string;
  let app: FastifyInstance;
  let base: string;
  let runner: CappedLog;
  let build: CappedLog;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'http-api-'));
    runner = new CappedLog(join(dir, 'runner.log'), { maxBytes: 10_000 });
    build = new CappedLog(join(dir, 'build.log'), { maxBytes: 10_000 });
    runner.write('INFO - ModelRunner started\n');
    build.write('building environment\n');
    app = buildHttpApi({
      models: () => [status],
      log: (id, kind) => (id === 'benchmark' ? (kind === 'build' ? build : runner) : undefined),
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterEach(async () => {
    await app.close();
    runner.close();
    build.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists models with state, deployment, port, restarts and last error', async () => {
    const response = await fetch(`${base}/models`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual([status]);
    expect(await (await fetch(`${base}/models/benchmark`)).json()).toEqual(status);
  });

  it('answers JSON 404 for unknown models and routes, and 400 for a bad log kind', async () => {
    const unknown = await fetch(`${base}/models/nope`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'no model nope' });
    const unknownLogs = await fetch(`${base}/models/nope/logs?kind=runner`);
    expect(unknownLogs.status).toBe(404);
    expect(await unknownLogs.json()).toEqual({ error: 'no model nope' });
    const badKind = await fetch(`${base}/models/benchmark/logs?kind=docker`);
    expect(badKind.status).toBe(400);
    expect(await badKind.json()).toEqual({ error: expect.stringContaining('kind') });
    const noRoute = await fetch(`${base}/nothing`);
    expect(noRoute.status).toBe(404);
    expect(await noRoute.json()).toEqual({ error: 'no route GET /nothing' });
  });

  it('serves each log kind as text, runner by default', async () => {
    expect(await (await fetch(`${base}/models/benchmark/logs?kind=build`)).text()).toBe('building environment\n');
    const runnerLog = await fetch(`${base}/models/benchmark/logs`);
    expect(runnerLog.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await runnerLog.text()).toBe('INFO - ModelRunner started\n');
  });

  it('streams new lines with follow=true until the client goes away', async () => {
    const controller = new AbortController();
    const response = await fetch(`${base}/models/benchmark/logs?kind=runner&follow=true`, {
      signal: controller.signal,
    });
    const reader = response.body?.getReader();
    if (!reader) throw new Error('no body');
    const decoder = new TextDecoder();
    let received = '';
    const readUntil = async (needle: string): Promise<void> => {
      while (!received.includes(needle)) {
        const chunk = await reader.read();
        if (chunk.done) throw new Error(`stream ended before ${needle}`);
        received += decoder.decode(chunk.value, { stream: true });
      }
    };
    await readUntil('ModelRunner started');
    runner.write('INFO - Setup successfully complete\n');
    await readUntil('Setup successfully complete');
    controller.abort();
    await expect.poll(() => runner.listenerCount('data')).toBe(0);
  });
});
