import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { crunchIdOf, DiscoveryServer } from './discovery-server.js';
import type { FailureReport, ModelState } from './types.js';

const state = (modelId: string, deployment: string, status: ModelState['state'] = 'RUNNING'): ModelState => ({
  deployment_id: deployment,
  model_id: modelId,
  infos: {
    model_name: modelId,
    cruncher_id: 'c',
    cruncher_name: 'c',
    cruncher_wallet_pubkey: '',
    cruncher_hotkey: null,
  },
  state: status,
  ip: '127.0.0.1',
  port: 50051,
});

/** A raw client that records every frame, to assert on exactly what went over the wire. */
async function connect(url: string): Promise<{ ws: WebSocket; frames: unknown[]; next(): Promise<unknown> }> {
  const ws = new WebSocket(url);
  const frames: unknown[] = [];
  const waiters: Array<(frame: unknown) => void> = [];
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as unknown;
    frames.push(frame);
    waiters.shift()?.(frame);
  });
  let read = 0;
  const next = (): Promise<unknown> =>
    read < frames.length
      ? Promise.resolve(frames[read++])
      : new Promise((resolve) =>
          waiters.push((frame) => {
            read++;
            resolve(frame);
          }),
        );
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return { ws, frames, next };
}

describe('DiscoveryServer', () => {
  let server: DiscoveryServer;
  let port: number;
  const reports: Array<[string, FailureReport]> = [];
  const running = new Map<string, ModelState[]>([['condorgame', [state('m1', 'm1_20250101_000000_000')]]]);

  beforeEach(async () => {
    reports.length = 0;
    server = new DiscoveryServer({
      host: '127.0.0.1',
      port: 0,
      initialStates: (crunchId) => running.get(crunchId) ?? [],
      onReport: (crunchId, report) => reports.push([crunchId, report]),
    });
    port = await server.start();
  });
  afterEach(() => server.close());

  it('sends init with the running models of the crunch, then updates to that crunch only', async () => {
    const condor = await connect(`ws://127.0.0.1:${port}/condorgame`);
    const other = await connect(`ws://127.0.0.1:${port}/other`);
    expect(await condor.next()).toEqual({ event: 'init', data: [state('m1', 'm1_20250101_000000_000')] });
    expect(await other.next()).toEqual({ event: 'init', data: [] });
    server.publish('condorgame', state('m1', 'm1_20250101_000000_000', 'STOPPED'));
    expect(await condor.next()).toEqual({ event: 'update', data: [state('m1', 'm1_20250101_000000_000', 'STOPPED')] });
    server.publish('other', state('m2', 'm2_x'));
    expect(await other.next()).toMatchObject({ event: 'update', data: [{ model_id: 'm2' }] });
    expect(condor.frames).toHaveLength(2);
    condor.ws.close();
    other.ws.close();
  });

  it('answers 426 to a plain HTTP request', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/condorgame`);
    expect(response.status).toBe(426);
    expect(await response.json()).toMatchObject({ error: expect.stringMatching(/upgrade required/) });
  });

  it('sends an error frame and closes when the crunch id is missing', async () => {
    const client = await connect(`ws://127.0.0.1:${port}/`);
    const closed = new Promise<number>((resolve) => client.ws.once('close', (code) => resolve(code)));
    expect(await client.next()).toEqual({ error: expect.stringMatching(/^crunch_id is required/) });
    expect(await closed).toBe(1008);
  });

  it('logs and ignores malformed frames, keeps the connection, and passes on reports', async () => {
    const client = await connect(`ws://127.0.0.1:${port}/condorgame`);
    await client.next();
    client.ws.send('not json');
    client.ws.send(JSON.stringify({ event: 'report_failure', data: 'nope' }));
    client.ws.send(JSON.stringify({ event: 'something_else', data: [] }));
    client.ws.send(Buffer.from([0xff, 0xfe]));
    client.ws.send(
      JSON.stringify({
        event: 'report_failure',
        data: [{ model_id: 7, failure_code: 'MULTIPLE_FAILED', failure_reason: null, ip: '127.0.0.1' }],
      }),
    );
    await expect.poll(() => reports.length).toBe(1);
    expect(reports[0]).toEqual([
      'condorgame',
      { model_id: '7', failure_code: 'MULTIPLE_FAILED', failure_reason: null, ip: '127.0.0.1' },
    ]);
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    client.ws.close();
  });
});

describe('crunchIdOf', () => {
  it.each([
    ['/condorgame', 'condorgame'],
    ['/condorgame/', 'condorgame'],
    ['/condorgame?x=1', 'condorgame'],
    ['/my%20crunch', 'my crunch'],
    ['/', ''],
    [undefined, ''],
    ['/%E0%A4%A', ''],
  ])('%s -> %s', (url, id) => {
    expect(crunchIdOf(url)).toBe(id);
  });
});
