// Discovery rules of docs/protocol.md#discovery against the test orchestrator WebSocket and fake model servers:
// init replaces the set, updates, numeric-string ports, the redeploy order, reconnecting with a
// fresh init, and failure reports held while offline (all of them sent on reconnect).
import { type EventEmitter, once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { type ModelInfo, ModelRunnerClient, type ModelRunnerClientOptions } from '../lib/model-runner/index.js';
import { type FakeModelServer, startFakeModelServer } from '../lib/model-runner/testing/fake-model-server.js';
import { TestDiscoveryServer } from './support/discovery-server.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function fakeModel(answer: string): Promise<FakeModelServer> {
  const server = await startFakeModelServer({ behaviour: { call: () => ({ value: answer }) } });
  cleanup.push(() => server.stop());
  return server;
}

async function setUp(options: Partial<ModelRunnerClientOptions> = {}) {
  const discovery = await TestDiscoveryServer.start();
  cleanup.push(() => discovery.close());
  const client = new ModelRunnerClient({
    className: 'condorgame.tracker.TrackerBase',
    discoveryUrl: discovery.url,
    connectBackoffMs: [20, 40],
    channelReadyTimeoutMs: 500,
    reconnectDelayMs: 20,
    maxReconnectDelayMs: 100,
    ...options,
  });
  cleanup.push(() => client.close());
  const events: string[] = [];
  client.on('model-joined', (model) => events.push(`joined ${model.deploymentId}`));
  client.on('model-left', (model) => events.push(`left ${model.deploymentId}`));
  return { discovery, client, events };
}

function ids(models: ModelInfo[]): string[] {
  return models.map((model) => model.modelId).sort();
}

async function eventually(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Who answers a call to each model: tells which deployment (server) a model id is wired to. */
async function answers(client: ModelRunnerClient): Promise<Record<string, unknown>> {
  const results = await client.call('whoami', [], { timeoutMs: 5_000 });
  return Object.fromEntries(results.map((result) => [result.model.modelId, result.value]));
}

describe('discovery', () => {
  it('connects the models of the init event and the ones announced later; stopped ones leave', async () => {
    const { discovery, client, events } = await setUp();
    const a = await fakeModel('a');
    const b = await fakeModel('b');
    const first = discovery.announce({ modelId: 'a', port: a.port, name: 'Alpha', cruncherName: 'Ann' });
    const connected = once(client as unknown as EventEmitter, 'discovery-connected');
    await client.start();
    await connected;
    const [joined] = await client.waitForModels(1, 10_000);
    expect(joined).toMatchObject({
      modelId: 'a',
      deploymentId: first.deployment_id,
      name: 'Alpha',
      cruncherName: 'Ann',
      ip: '127.0.0.1',
      port: a.port,
    });

    const second = discovery.announce({ modelId: 'b', port: b.port });
    await client.waitForModels(2, 10_000);
    expect(await answers(client)).toEqual({ a: 'a', b: 'b' });

    discovery.stop('a');
    await eventually(() => client.models().length === 1, 'a to leave');
    discovery.stop('b', 'RECOVERING');
    await eventually(() => client.models().length === 0, 'b to leave');
    expect(events).toEqual([
      `joined ${first.deployment_id}`,
      `joined ${second.deployment_id}`,
      `left ${first.deployment_id}`,
      `left ${second.deployment_id}`,
    ]);
  });

  it('accepts ports sent as numeric strings', async () => {
    const { discovery, client } = await setUp();
    const a = await fakeModel('a');
    discovery.announce({ modelId: 'a', port: a.port, portAsString: true });
    await client.start();
    const [model] = await client.waitForModels(1, 10_000);
    expect(model?.port).toBe(a.port);
  });

  it('leaves out malformed entries and keeps going', async () => {
    const { discovery, client } = await setUp();
    const a = await fakeModel('a');
    await client.start();
    await discovery.waitForClients(1);
    discovery.broadcastText('not json');
    discovery.broadcastText(JSON.stringify({ event: 'mystery', data: [] }));
    discovery.sendUpdate([
      { model_id: 'x', state: 'RUNNING', ip: '127.0.0.1', port: 'eighty' },
      { deployment_id: 'y_1', model_id: 'y', state: 'RUNNING', ip: '127.0.0.1', port: 70_000 },
      null,
      {
        deployment_id: 'a_20250101_000000_000',
        model_id: 'a',
        infos: { model_name: 'Alpha', cruncher_id: 7, cruncher_name: 'Ann', cruncher_hotkey: null },
        state: 'RUNNING',
        ip: '127.0.0.1',
        port: a.port,
      },
    ]);
    const [model] = await client.waitForModels(1, 10_000);
    expect(model).toMatchObject({ modelId: 'a', cruncherId: '7', name: 'Alpha' });
  });

  it('a redeploy (RUNNING new deployment, then STOPPED old) keeps the new deployment', async () => {
    const { discovery, client, events } = await setUp();
    const v1 = await fakeModel('v1');
    const v2 = await fakeModel('v2');
    const old = discovery.announce({ modelId: 'm', port: v1.port });
    await client.start();
    await client.waitForModels(1, 10_000);
    expect(await answers(client)).toEqual({ m: 'v1' });

    const { running } = discovery.redeploy({ modelId: 'm', port: v2.port });
    await eventually(() => client.models()[0]?.deploymentId === running.deployment_id, 'the new deployment');
    // Give the STOPPED event for the old deployment time to arrive (and be ignored).
    await sleep(100);
    expect(client.models().map((model) => model.deploymentId)).toEqual([running.deployment_id]);
    expect(await answers(client)).toEqual({ m: 'v2' });
    expect(events).toEqual([
      `joined ${old.deployment_id}`,
      `left ${old.deployment_id}`,
      `joined ${running.deployment_id}`,
    ]);
  });

  it('the same deployment at the same address only refreshes its details (no new Setup)', async () => {
    const { discovery, client } = await setUp();
    const a = await fakeModel('a');
    const state = discovery.announce({ modelId: 'a', port: a.port, name: 'Before' });
    await client.start();
    await client.waitForModels(1, 10_000);
    discovery.announce({ modelId: 'a', port: a.port, deploymentId: state.deployment_id, name: 'After' });
    await eventually(() => client.models()[0]?.name === 'After', 'the new name');
    expect(a.setups.length).toBe(1);
  });

  it('reconnects after losing the orchestrator and applies the fresh init as the whole set', async () => {
    const { discovery, client, events } = await setUp();
    const a = await fakeModel('a');
    const b = await fakeModel('b');
    const c = await fakeModel('c');
    const stateA = discovery.announce({ modelId: 'a', port: a.port });
    const stateB = discovery.announce({ modelId: 'b', port: b.port });
    await client.start();
    await client.waitForModels(2, 10_000);
    const disconnected = once(client as unknown as EventEmitter, 'discovery-disconnected');

    discovery.refuseConnections = true;
    discovery.dropClients();
    await disconnected;
    // While the client is away, b stops and c starts: it hears of neither.
    discovery.stop('b');
    const stateC = discovery.announce({ modelId: 'c', port: c.port });
    await sleep(150);
    expect(ids(client.models())).toEqual(['a', 'b']);

    discovery.refuseConnections = false;
    await discovery.waitForConnections(2);
    await eventually(() => ids(client.models()).join() === 'a,c', 'the fresh init to apply');
    expect(events).toEqual([
      `joined ${stateA.deployment_id}`,
      `joined ${stateB.deployment_id}`,
      `left ${stateB.deployment_id}`,
      `joined ${stateC.deployment_id}`,
    ]);
    expect(a.setups.length).toBe(1);
  });

  it('holds failure reports while the orchestrator is away and sends every one of them on reconnect', async () => {
    const { discovery, client } = await setUp({ maxConsecutiveFailures: 0 });
    const servers: FakeModelServer[] = [];
    for (const id of ['a', 'b', 'c']) {
      const server = await startFakeModelServer({
        behaviour: { call: () => ({ status: 'BAD_IMPLEMENTATION', message: `no predict in ${id}` }) },
      });
      cleanup.push(() => server.stop());
      servers.push(server);
      discovery.announce({ modelId: id, port: server.port });
    }
    await client.start();
    await client.waitForModels(3, 10_000);

    discovery.refuseConnections = true;
    discovery.dropClients();
    await eventually(() => discovery.clientCount === 0, 'the client to be cut off');
    const results = await client.call('predict', [], { timeoutMs: 5_000 });
    expect(results.map((result) => result.status)).toEqual(['FAILED', 'FAILED', 'FAILED']);
    expect(client.pendingReports).toBe(3);
    expect(discovery.reports).toEqual([]);

    discovery.refuseConnections = false;
    const reports = await discovery.waitForReports(3);
    expect(reports.map((report) => report.model_id).sort()).toEqual(['a', 'b', 'c']);
    expect(reports.every((report) => report.failure_code === 'BAD_IMPLEMENTATION')).toBe(true);
    expect(client.pendingReports).toBe(0);
  });

  it('expectedModels(): what the orchestrator says runs or recovers, connected or not, minus reported ones', async () => {
    const { discovery, client } = await setUp({ connectAttempts: 1000 });
    expect(client.expectedModels()).toBeNull();
    const a = await fakeModel('a');
    const bad = await startFakeModelServer({
      behaviour: { call: () => ({ status: 'BAD_IMPLEMENTATION', message: 'no predict' }) },
    });
    cleanup.push(() => bad.stop());
    discovery.announce({ modelId: 'a', port: a.port });
    discovery.announce({ modelId: 'bad', port: bad.port });
    // Nothing listens there: it stays expected while the client keeps trying to connect.
    discovery.announce({ modelId: 'unreachable', port: 1 });
    await client.start();
    await client.waitForModels(2, 10_000);
    expect(ids(client.expectedModels() ?? [])).toEqual(['a', 'bad', 'unreachable']);

    discovery.stop('a', 'RECOVERING');
    await client.call('predict', [], { timeoutMs: 5_000 });
    await discovery.waitForReports(1);
    expect(ids(client.expectedModels() ?? [])).toEqual(['a', 'unreachable']);
    discovery.stop('unreachable');
    await eventually(() => (client.expectedModels() ?? []).length === 1, 'the stopped model to be dropped');
    expect(ids(client.expectedModels() ?? [])).toEqual(['a']);
  });

  it('start() returns even when the orchestrator is down, and connects once it is up', async () => {
    const { discovery, client } = await setUp();
    const a = await fakeModel('a');
    discovery.announce({ modelId: 'a', port: a.port });
    discovery.refuseConnections = true;
    await client.start();
    expect(client.models()).toEqual([]);
    discovery.refuseConnections = false;
    await client.waitForModels(1, 10_000);
  });

  it('close() stops reconnecting', async () => {
    const { discovery, client } = await setUp();
    await client.start();
    await discovery.waitForClients(1);
    await client.close();
    await sleep(200);
    expect(discovery.connectionsAccepted).toBe(1);
    expect(discovery.clientCount).toBe(0);
  });
});
