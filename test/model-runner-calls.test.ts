// Call rules of docs/protocol.md#call-rules (status mapping, counters, cooldown, health check after a timeout,
// reports, the per-model queue, Setup retries) against in-process fake model servers and the test
// discovery server.
import { type EventEmitter, once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type CallResult,
  type JsonValue,
  type ModelInfo,
  ModelRunnerClient,
  type ModelRunnerClientOptions,
  modelTransports,
  VariantType,
} from '../lib/model-runner/index.js';
import {
  type FakeModelBehaviour,
  type FakeModelServer,
  startFakeModelServer,
} from '../lib/model-runner/testing/fake-model-server.js';
import { TestDiscoveryServer } from './support/discovery-server.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** Small waits so retries and cooldowns play out quickly. */
const fast: Partial<ModelRunnerClientOptions> = {
  connectBackoffMs: [20, 40],
  channelReadyTimeoutMs: 500,
  setupTimeoutMs: 1_000,
  healthCheckTimeoutMs: 500,
  reconnectDelayMs: 20,
  maxReconnectDelayMs: 100,
  busyRetryDelayMs: 10,
};

async function fakeModel(behaviour: FakeModelBehaviour = {}): Promise<FakeModelServer> {
  const server = await startFakeModelServer({ behaviour });
  cleanup.push(() => server.stop());
  return server;
}

function infoFor(modelId: string, server: { port: number }): ModelInfo {
  return {
    modelId,
    deploymentId: `${modelId}_20250101_000000_000`,
    name: modelId,
    cruncherId: `c-${modelId}`,
    cruncherName: `Cruncher ${modelId}`,
    ip: '127.0.0.1',
    port: server.port,
  };
}

/** A client on a static list of models, started and ready. */
async function staticClient(servers: Record<string, FakeModelServer>, options: Partial<ModelRunnerClientOptions> = {}) {
  const client = new ModelRunnerClient({
    className: 'condorgame.tracker.TrackerBase',
    models: Object.entries(servers).map(([id, server]) => infoFor(id, server)),
    ...fast,
    ...options,
  });
  cleanup.push(() => client.close());
  await client.start();
  await client.waitForModels(Object.keys(servers).length, 10_000);
  return client;
}

/** A client behind the test discovery server, with every given model announced and ready. */
async function discoveredClient(
  servers: Record<string, FakeModelServer>,
  options: Partial<ModelRunnerClientOptions> = {},
  expectReady = Object.keys(servers).length,
) {
  const discovery = await TestDiscoveryServer.start();
  cleanup.push(() => discovery.close());
  for (const [modelId, server] of Object.entries(servers)) discovery.announce({ modelId, port: server.port });
  const client = new ModelRunnerClient({
    className: 'condorgame.tracker.TrackerBase',
    discoveryUrl: discovery.url,
    ...fast,
    ...options,
  });
  cleanup.push(() => client.close());
  await client.start();
  if (expectReady > 0) await client.waitForModels(expectReady, 10_000);
  return { client, discovery };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The arguments of the client's next `name` event; fails the test if none comes. */
async function nextEvent(client: ModelRunnerClient, name: string, timeoutMs = 10_000): Promise<unknown[]> {
  return once(client as unknown as EventEmitter, name, { signal: AbortSignal.timeout(timeoutMs) });
}

function byModelId(results: CallResult[]): Record<string, CallResult> {
  return Object.fromEntries(results.map((result) => [result.model.modelId, result]));
}

async function eventually(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

// Every rule holds whichever gRPC transport the client uses (our http2 channel or grpc-js).
describe.each(modelTransports)('with the %s transport', (transport) => {
  beforeAll(() => {
    fast.transport = transport;
  });

  describe('calls', () => {
    it('sends positional and keyword arguments and decodes the answer', async () => {
      const model = await fakeModel({
        call: ({ args, kwargs }) => ({ value: { echo: args, named: kwargs } as JsonValue }),
      });
      const client = await staticClient({ a: model });
      const [result, ...rest] = await client.call(
        'predict',
        { args: ['BTC', 3600, 60, null, 2.5, true], kwargs: { extra: [1, 'x'] } },
        { timeoutMs: 5_000 },
      );
      expect(rest).toEqual([]);
      expect(result?.status).toBe('SUCCESS');
      expect(result?.model.modelId).toBe('a');
      expect(result?.value).toEqual({ echo: ['BTC', 3600, 60, null, 2.5, 1], named: { extra: [1, 'x'] } });
      expect(result?.execTimeUs).toBeGreaterThan(0);
      expect(model.calls[0]?.method).toBe('predict');
      expect(model.setups[0]?.className).toBe('condorgame.tracker.TrackerBase');
    });

    it('passes Setup arguments to the model', async () => {
      const model = await fakeModel();
      await staticClient({ a: model }, { instanceArgs: { args: ['x'], kwargs: { depth: 3 } } });
      expect(model.setups[0]).toMatchObject({ args: ['x'], kwargs: { depth: 3 } });
    });

    it('calls every model at once, or only the listed ones', async () => {
      const a = await fakeModel({ call: () => ({ value: 'a' }) });
      const b = await fakeModel({ call: () => ({ value: 'b' }) });
      const client = await staticClient({ a, b });
      const all = await client.call('predict', [], { timeoutMs: 5_000 });
      expect(all.map((r) => r.value).sort()).toEqual(['a', 'b']);
      const onlyB = await client.call('predict', [], { timeoutMs: 5_000, models: ['b', 'unknown'] });
      expect(onlyB.map((r) => r.model.modelId)).toEqual(['b']);
    });

    it('maps answers to SUCCESS, FAILED and TIMEOUT', async () => {
      const behaviours: Record<string, FakeModelBehaviour> = {
        ok: { call: () => ({ value: [1, 2] }) },
        raises: { call: () => ({ status: 'MODEL_FAILED', message: 'The model raised an exception: boom' }) },
        unavailable: { call: () => ({ grpcError: status.UNAVAILABLE, details: 'gone' }) },
        slow: { call: () => sleep(2_000).then(() => ({ value: 1 })) },
        parquet: { call: () => ({ variant: { type: VariantType.PARQUET, value: Buffer.from('PAR1') } }) },
        garbled: { call: () => ({ variant: { type: VariantType.JSON, value: Buffer.from('[{"a": ') } }) },
        python_nan: {
          call: () => ({ variant: { type: VariantType.JSON, value: Buffer.from('[NaN, -Infinity, "NaN"]') } }),
        },
        none: { call: () => ({ value: null }) },
      };
      const servers: Record<string, FakeModelServer> = {};
      for (const [id, behaviour] of Object.entries(behaviours)) servers[id] = await fakeModel(behaviour);
      const client = await staticClient(servers);
      const results = await client.call('predict', ['BTC'], { timeoutMs: 300 });
      const byId = Object.fromEntries(results.map((r) => [r.model.modelId, r]));
      expect(byId.ok).toMatchObject({ status: 'SUCCESS', value: [1, 2] });
      expect(byId.raises).toMatchObject({ status: 'FAILED', value: null, error: expect.stringContaining('boom') });
      expect(byId.unavailable).toMatchObject({ status: 'TIMEOUT', error: expect.stringContaining('UNAVAILABLE') });
      expect(byId.slow).toMatchObject({ status: 'TIMEOUT', error: expect.stringContaining('DEADLINE_EXCEEDED') });
      expect(byId.parquet).toMatchObject({ status: 'FAILED', error: expect.stringContaining('PARQUET') });
      expect(byId.garbled).toMatchObject({ status: 'FAILED', error: expect.stringContaining('does not parse') });
      expect(byId.python_nan).toMatchObject({
        status: 'SUCCESS',
        value: [Number.NaN, Number.NEGATIVE_INFINITY, 'NaN'],
      });
      expect(byId.none).toMatchObject({ status: 'SUCCESS', value: null });
    });

    it('with decode: false, leaves JSON answers as bytes and still decodes the rest', async () => {
      const servers = {
        json: await fakeModel({
          call: () => ({ variant: { type: VariantType.JSON, value: Buffer.from('[NaN, 1]') } }),
        }),
        text: await fakeModel({ call: () => ({ value: 'BTC' }) }),
        broken: await fakeModel({
          call: () => ({ variant: { type: VariantType.JSON, value: Buffer.from([0xff, 0x5b]) } }),
        }),
      };
      const client = await staticClient(servers);
      const results = await client.call('predict', [], { timeoutMs: 5_000, decode: false });
      const byId = Object.fromEntries(results.map((r) => [r.model.modelId, r]));
      expect(byId.json).toMatchObject({ status: 'SUCCESS', value: null });
      expect(byId.json?.raw?.type).toBe(VariantType.JSON);
      expect(byId.json?.raw?.value.toString()).toBe('[NaN, 1]');
      expect(byId.text).toMatchObject({ status: 'SUCCESS', value: 'BTC' });
      expect(byId.broken).toMatchObject({ status: 'FAILED', error: expect.stringContaining('UTF-8') });
    });

    it('refuses bad call() input with a clear error', async () => {
      const client = await staticClient({ a: await fakeModel() });
      await expect(client.call('', [], { timeoutMs: 10 })).rejects.toThrow(/method name/);
      await expect(client.call('predict', [], { timeoutMs: 0 })).rejects.toThrow(/timeoutMs/);
      await expect(client.call('predict', [undefined as unknown as null], { timeoutMs: 10 })).rejects.toThrow(
        /cannot be sent/,
      );
    });
  });

  describe('one call at a time per model, and nothing waits on a busy one', () => {
    it('a model still busy with its previous call gets the new one as TIMEOUT at once; the others are not held', async () => {
      let release = () => {};
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      const slow = await fakeModel({ call: () => released.then(() => ({ value: 'late' })) });
      const quick = await fakeModel({ call: () => ({ value: 'quick' }) });
      const client = await staticClient({ slow, quick });
      const first = client.call('predict', [], { timeoutMs: 60_000, models: ['slow'] });
      await eventually(() => slow.calls.length === 1, 'the first call to reach the slow model');
      // The slow model's first call is still running (released only below), yet this round ends.
      const second = byModelId(await client.call('predict', [], { timeoutMs: 60_000 }));
      expect(second.quick).toMatchObject({ status: 'SUCCESS', value: 'quick' });
      expect(second.slow).toMatchObject({ status: 'TIMEOUT', error: expect.stringContaining('still busy') });
      expect(second.slow?.error).toContain('predict');
      release();
      expect((await first)[0]).toMatchObject({ status: 'SUCCESS', value: 'late' });
      // The busy refusal never reached the model and did not count against it.
      expect(slow.calls).toHaveLength(1);
      expect(slow.busyRefusals).toBe(0);
      expect(slow.healthChecks).toBe(0);
      expect((await client.call('predict', [], { timeoutMs: 5_000 }))[0]?.status).toBe('SUCCESS');
    });

    it('a call may wait behind the methods it names (a predict behind its tick), within its deadline', async () => {
      const model = await fakeModel({
        call: ({ method }) => (method === 'tick' ? sleep(100).then(() => ({ value: 'ticked' })) : { value: method }),
      });
      const client = await staticClient({ a: model });
      const tick = client.call('tick', [], { timeoutMs: 10_000 });
      const [predict] = await client.call('predict', [], { timeoutMs: 10_000, waitBehind: ['tick'] });
      expect(predict).toMatchObject({ status: 'SUCCESS', value: 'predict' });
      expect((await tick)[0]?.status).toBe('SUCCESS');
      expect(model.calls.map((c) => c.method)).toEqual(['tick', 'predict']);
      expect(model.maxConcurrent).toBe(1);
      // Behind a method it does not name, it is TIMEOUT at once.
      const again = client.call('tick', [], { timeoutMs: 10_000 });
      const [refused] = await client.call('predict', [], { timeoutMs: 10_000, waitBehind: ['other'] });
      expect(refused).toMatchObject({ status: 'TIMEOUT', error: expect.stringContaining('still busy') });
      await again;
    });

    it("a waiting call's deadline counts from when call() was invoked", async () => {
      let release = () => {};
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      const model = await fakeModel({ call: () => released.then(() => ({ value: 'late' })) });
      const client = await staticClient({ a: model });
      const first = client.call('tick', [], { timeoutMs: 10_000 });
      const second = client.call('predict', [], { timeoutMs: 100, waitBehind: ['tick'] });
      const [queued] = await second;
      release();
      expect(queued).toMatchObject({ status: 'TIMEOUT', error: expect.stringContaining('deadline passed') });
      expect((await first)[0]?.status).toBe('SUCCESS');
      expect(model.calls.map((c) => c.method)).toEqual(['tick']);
    });

    it('a model process still busy with a call the coordinator gave up on gets the next one as TIMEOUT at once', async () => {
      let calls = 0;
      const model = await fakeModel({
        call: () => (calls++ === 0 ? sleep(1_000).then(() => ({ value: 'first' })) : { value: 'again' }),
      });
      const client = await staticClient({ a: model }, { maxConsecutiveTimeouts: 0 });
      const [abandoned] = await client.call('predict', [], { timeoutMs: 50 });
      expect(abandoned?.status).toBe('TIMEOUT');
      // The first timeout makes the next call a cooldown skip; the one after that is a real attempt,
      // which the process refuses as busy: no waiting for it, the slot is lost now.
      const [skipped] = await client.call('predict', [], { timeoutMs: 30_000 });
      expect(skipped).toMatchObject({ status: 'TIMEOUT', error: expect.stringContaining('skipped') });
      const [refused] = await client.call('predict', [], { timeoutMs: 30_000 });
      expect(refused).toMatchObject({ status: 'TIMEOUT', error: expect.stringContaining('still busy') });
      expect(model.busyRefusals).toBe(1);
    });

    it('an aborted signal ends the calls in flight at once, without counting them against the model', async () => {
      const model = await fakeModel({
        call: ({ method }) => (method === 'slow' ? sleep(500).then(() => ({ value: 1 })) : { value: 2 }),
      });
      const client = await staticClient({ a: model }, { maxConsecutiveTimeouts: 1 });
      const stop = new AbortController();
      const pending = client.call('slow', [], { timeoutMs: 60_000, signal: stop.signal });
      await eventually(() => model.calls.length === 1, 'the call to reach the model');
      stop.abort(new Error('the activity was cancelled'));
      const [cancelled] = await pending;
      expect(cancelled).toMatchObject({
        status: 'TIMEOUT',
        error: expect.stringContaining('the activity was cancelled'),
      });
      expect(await client.call('fast', [], { timeoutMs: 60_000, signal: stop.signal })).toMatchObject([
        { status: 'TIMEOUT', error: expect.stringContaining('cancelled') },
      ]);
      // Not counted: no health check, no cooldown skip, and the model answers its next call.
      expect(model.healthChecks).toBe(0);
      await eventually(() => model.maxConcurrent === 1 && model.busyRefusals === 0, 'the model');
      await sleep(600);
      expect((await client.call('fast', [], { timeoutMs: 5_000 }))[0]).toMatchObject({ status: 'SUCCESS', value: 2 });
    });

    it("onResult hands over each model's result as it comes", async () => {
      const a = await fakeModel({ call: () => ({ value: 'a' }) });
      const b = await fakeModel({ call: () => sleep(200).then(() => ({ value: 'b' })) });
      const client = await staticClient({ a, b });
      const seen: string[] = [];
      const results = await client.call('predict', [], {
        timeoutMs: 5_000,
        onResult: (result) => seen.push(String(result.value)),
      });
      expect(seen).toEqual(['a', 'b']);
      expect(results).toHaveLength(2);
    });
  });

  describe('failure counters and reports', () => {
    it('reports MULTIPLE_FAILED after more failures in a row than allowed, and drops the model', async () => {
      const model = await fakeModel({ call: () => ({ status: 'MODEL_FAILED', message: 'boom' }) });
      const { client, discovery } = await discoveredClient({ a: model }, { maxConsecutiveFailures: 2 });
      const reported = nextEvent(client, 'model-reported');
      const left = nextEvent(client, 'model-left');
      for (let i = 0; i < 3; i++)
        expect((await client.call('predict', [], { timeoutMs: 2_000 }))[0]?.status).toBe('FAILED');
      expect((await reported)[0]).toMatchObject({ failureCode: 'MULTIPLE_FAILED', model: { modelId: 'a' } });
      expect((await left)[1]).toMatch(/MULTIPLE_FAILED/);
      const [report] = await discovery.waitForReports(1);
      expect(report).toMatchObject({ model_id: 'a', failure_code: 'MULTIPLE_FAILED', ip: '127.0.0.1' });
      expect(report?.failure_reason).toContain('boom');
      expect(client.models()).toEqual([]);
      expect(await client.call('predict', [], { timeoutMs: 100 })).toEqual([]);
    });

    it('a success clears the failure counter', async () => {
      let n = 0;
      const model = await fakeModel({
        call: () => (++n % 3 === 0 ? { value: 'ok' } : { status: 'MODEL_FAILED', message: 'flaky' }),
      });
      const { client, discovery } = await discoveredClient({ a: model }, { maxConsecutiveFailures: 2 });
      const statuses: string[] = [];
      for (let i = 0; i < 9; i++)
        statuses.push((await client.call('predict', [], { timeoutMs: 2_000 }))[0]?.status ?? '-');
      expect(statuses).toEqual([
        'FAILED',
        'FAILED',
        'SUCCESS',
        'FAILED',
        'FAILED',
        'SUCCESS',
        'FAILED',
        'FAILED',
        'SUCCESS',
      ]);
      expect(discovery.reports).toEqual([]);
    });

    it('reports BAD_IMPLEMENTATION at once', async () => {
      const model = await fakeModel({
        call: () => ({ status: 'BAD_IMPLEMENTATION', message: 'Method "predict" not found' }),
      });
      const { client, discovery } = await discoveredClient({ a: model });
      const [result] = await client.call('predict', [], { timeoutMs: 2_000 });
      expect(result).toMatchObject({ status: 'FAILED', error: expect.stringContaining('BAD_IMPLEMENTATION') });
      expect(await discovery.waitForReports(1)).toMatchObject([{ model_id: 'a', failure_code: 'BAD_IMPLEMENTATION' }]);
      expect(client.models()).toEqual([]);
    });

    it('rests a timing-out model (skips count as timeouts) and reports MULTIPLE_TIMEOUT', async () => {
      const model = await fakeModel({ call: () => sleep(1_000).then(() => ({ value: 'late' })) });
      const { client, discovery } = await discoveredClient({ a: model }, { maxConsecutiveTimeouts: 3 });
      const errors: string[] = [];
      for (let i = 0; i < 4; i++) {
        const [result] = await client.call('predict', [], { timeoutMs: 100 });
        expect(result?.status).toBe('TIMEOUT');
        errors.push(result?.error?.includes('skipped') ? 'skip' : 'call');
      }
      expect(errors).toEqual(['call', 'skip', 'call', 'skip']);
      const [report] = await discovery.waitForReports(1);
      expect(report).toMatchObject({ model_id: 'a', failure_code: 'MULTIPLE_TIMEOUT' });
      expect(model.healthChecks).toBeGreaterThanOrEqual(4);
      await eventually(() => client.models().length === 0, 'the model to be dropped');
    });

    it('does not count a timeout when the health check fails: it reconnects the model instead', async () => {
      let healthy = false;
      const model = await fakeModel({
        call: () => sleep(1_000).then(() => ({ value: 'late' })),
        health: () => (healthy ? 'SERVING' : 'NOT_SERVING'),
      });
      // Long enough waits that the model is done with the abandoned call before the last Setup attempt.
      const { client, discovery } = await discoveredClient(
        { a: model },
        { maxConsecutiveTimeouts: 1, connectBackoffMs: [300, 600, 1_200] },
      );
      const reconnected = nextEvent(client, 'model-reconnected');
      const joinedAgain = vi.fn();
      client.on('model-joined', joinedAgain);
      const [result] = await client.call('predict', [], { timeoutMs: 100 });
      expect(result?.status).toBe('TIMEOUT');
      expect((await reconnected)[0]).toMatchObject({ modelId: 'a' });
      expect(model.setups.length).toBe(2);
      expect(joinedAgain).not.toHaveBeenCalled();
      // The counters started over: the next call is a real attempt, not a cooldown skip, and nothing was reported.
      healthy = true;
      model.setBehaviour({ call: () => ({ value: 'back' }) });
      const [next] = await client.call('predict', [], { timeoutMs: 2_000 });
      expect(next).toMatchObject({ status: 'SUCCESS', value: 'back' });
      expect(discovery.reports).toEqual([]);
    });

    it('sets the model up again when it answers FAILED_PRECONDITION (its process lost the instance)', async () => {
      let setUp = true;
      const model = await fakeModel({
        setup: () => {
          setUp = true;
          return { value: null };
        },
        call: () =>
          setUp ? { value: 'ok' } : { status: 'FAILED_PRECONDITION', message: 'Setup has not been called yet' },
      });
      const client = await staticClient({ a: model });
      setUp = false;
      const reconnected = nextEvent(client, 'model-reconnected');
      expect((await client.call('predict', [], { timeoutMs: 2_000 }))[0]?.status).toBe('FAILED');
      await reconnected;
      expect((await client.call('predict', [], { timeoutMs: 2_000 }))[0]).toMatchObject({
        status: 'SUCCESS',
        value: 'ok',
      });
    });

    it('with reporting off, logs instead of reporting and keeps calling the model', async () => {
      const model = await fakeModel({ call: () => ({ status: 'MODEL_FAILED', message: 'boom' }) });
      const { client, discovery } = await discoveredClient(
        { a: model },
        { maxConsecutiveFailures: 1, reportFailures: false },
      );
      for (let i = 0; i < 4; i++)
        expect((await client.call('predict', [], { timeoutMs: 2_000 }))[0]?.status).toBe('FAILED');
      expect(client.models().map((m) => m.modelId)).toEqual(['a']);
      await sleep(50);
      expect(discovery.reports).toEqual([]);
    });
  });

  describe('connecting and Setup', () => {
    it('retries until the model process is up', async () => {
      const port = await freePort();
      const client = new ModelRunnerClient({
        className: 'condorgame.tracker.TrackerBase',
        models: [infoFor('late', { port })],
        ...fast,
        connectAttempts: 20,
        connectBackoffMs: [50],
        channelReadyTimeoutMs: 100,
      });
      cleanup.push(() => client.close());
      await client.start();
      await sleep(300);
      expect(client.models()).toEqual([]);
      const server = await startFakeModelServer({ port });
      cleanup.push(() => server.stop());
      await client.waitForModels(1, 10_000);
      expect(server.setups.length).toBe(1);
    });

    it('reports CONNECTION_FAILED after the last attempt', async () => {
      const port = await freePort();
      const discovery = await TestDiscoveryServer.start();
      cleanup.push(() => discovery.close());
      discovery.announce({ modelId: 'ghost', port });
      const client = new ModelRunnerClient({
        className: 'condorgame.tracker.TrackerBase',
        discoveryUrl: discovery.url,
        ...fast,
        connectAttempts: 3,
        channelReadyTimeoutMs: 100,
      });
      cleanup.push(() => client.close());
      await client.start();
      const [report] = await discovery.waitForReports(1);
      expect(report).toMatchObject({ model_id: 'ghost', failure_code: 'CONNECTION_FAILED' });
      expect(report?.failure_reason).toContain('3 attempts');
    });

    it('gives Setup a deadline: a Setup that never answers ends in CONNECTION_FAILED', async () => {
      const model = await fakeModel({ setup: () => new Promise(() => {}) });
      const { client, discovery } = await discoveredClient(
        { a: model },
        { setupTimeoutMs: 100, connectAttempts: 2 },
        0,
      );
      const [report] = await discovery.waitForReports(1);
      expect(report).toMatchObject({ model_id: 'a', failure_code: 'CONNECTION_FAILED' });
      // The second attempt found the server still busy with the first Setup.
      expect(report?.failure_reason).toMatch(/RESOURCE_EXHAUSTED|DEADLINE_EXCEEDED/);
      expect(client.models()).toEqual([]);
    });

    it('reports a Setup BAD_IMPLEMENTATION at once, without retrying', async () => {
      const model = await fakeModel({
        setup: () => ({ status: 'BAD_IMPLEMENTATION', message: 'No Inherited class found' }),
      });
      const { discovery } = await discoveredClient({ a: model }, { connectAttempts: 5 }, 0);
      const [report] = await discovery.waitForReports(1);
      expect(report).toMatchObject({ model_id: 'a', failure_code: 'BAD_IMPLEMENTATION' });
      expect(report?.failure_reason).toContain('No Inherited class found');
      expect(model.setups.length).toBe(1);
    });

    it('reports another Setup error as MULTIPLE_FAILED', async () => {
      const model = await fakeModel({ setup: () => ({ status: 'SETUP_FAILED', message: 'constructor raised' }) });
      const { discovery } = await discoveredClient({ a: model }, {}, 0);
      expect(await discovery.waitForReports(1)).toMatchObject([{ model_id: 'a', failure_code: 'MULTIPLE_FAILED' }]);
    });

    it('refuses bad options with a clear error', () => {
      const base = { className: 'condorgame.tracker.TrackerBase', models: [] };
      expect(() => new ModelRunnerClient({ ...base, className: ' ' })).toThrow(/className/);
      expect(() => new ModelRunnerClient({ className: 'x.Y' })).toThrow(/discoveryUrl or a static models list/);
      expect(() => new ModelRunnerClient({ ...base, setupTimeoutMs: -1 })).toThrow(/setupTimeoutMs/);
      expect(() => new ModelRunnerClient({ className: 'x.Y', discoveryUrl: 'http://h:1/c' })).toThrow(/ws:\/\//);
      expect(() => new ModelRunnerClient({ className: 'x.Y', discoveryUrl: 'ws://h:1/' })).toThrow(/crunch id/);
      expect(() => new ModelRunnerClient({ ...base, models: [{ ...infoFor('a', { port: 70_000 }) }] })).toThrow(/port/);
    });
  });

  describe('message size and close()', () => {
    it('receives answers far above gRPC’s 4 MiB default, and honours a smaller maxMessageBytes', async () => {
      const big = 'x'.repeat(6 * 1024 * 1024);
      const model = await fakeModel({ call: () => ({ value: big }) });
      const client = await staticClient({ a: model });
      const [result] = await client.call('predict', [], { timeoutMs: 10_000 });
      expect(result?.status).toBe('SUCCESS');
      expect(String(result?.value).length).toBe(big.length);

      const limited = await staticClient({ b: model }, { maxMessageBytes: 1024 * 1024 });
      const [refused] = await limited.call('predict', [], { timeoutMs: 10_000 });
      expect(refused).toMatchObject({ status: 'TIMEOUT', error: expect.stringContaining('RESOURCE_EXHAUSTED') });
    });

    it('close() ends calls in flight, stops retries and is idempotent', async () => {
      const model = await fakeModel({ call: () => sleep(10_000).then(() => ({ value: 1 })) });
      const port = await freePort();
      const client = new ModelRunnerClient({
        className: 'condorgame.tracker.TrackerBase',
        models: [infoFor('a', model), infoFor('never', { port })],
        ...fast,
        connectAttempts: 1_000,
      });
      await client.start();
      await client.waitForModels(1, 10_000);
      const left = vi.fn();
      client.on('model-left', left);
      const pending = client.call('predict', [], { timeoutMs: 60_000 });
      await sleep(50);
      await client.close();
      await client.close();
      const [result] = await pending;
      expect(result?.status).toBe('TIMEOUT');
      expect(left).toHaveBeenCalledTimes(1);
      expect(client.models()).toEqual([]);
      await expect(client.start()).rejects.toThrow(/closed/);
    });
  });
});
