import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../lib/log/index.js';
import { connectClient, type RunningDevServer, startDevServer } from '../lib/temporal/index.js';
import { temporalCli } from './support/tools.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('startDevServer (what `npm start` runs)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'temporal-dev-'));
  const logger = createLogger('test');
  let server: RunningDevServer | undefined;
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts with the Web UI and our search attributes, keeps its data across restarts, and reuses a running one', async () => {
    const [port, uiPort] = [await freePort(), await freePort()];
    const options = { executable: temporalCli(), dataDir, port, uiPort, logger };
    server = await startDevServer(options);
    expect(server.startedHere).toBe(true);
    const ui = await fetch(server.uiUrl);
    expect(ui.status).toBe(200);

    const client = await connectClient({ address: server.address, namespace: 'default' });
    const listed = await client.connection.operatorService.listSearchAttributes({ namespace: 'default' });
    expect(Object.keys(listed.customAttributes ?? {})).toEqual(
      expect.arrayContaining(['CycleTime', 'Assets', 'ModelsCalled', 'PredictionFailures']),
    );
    // A workflow start with no worker stays RUNNING: enough to see that the database is kept.
    await client.workflow.start('nobodyRunsThis', { taskQueue: 'nowhere', workflowId: 'kept-across-restarts' });

    const again = await startDevServer(options);
    expect(again.startedHere).toBe(false);

    await client.connection.close();
    await server.stop();
    server = await startDevServer(options);
    const reconnected = await connectClient({ address: server.address, namespace: 'default' });
    const description = await reconnected.workflow.getHandle('kept-across-restarts').describe();
    expect(description.status.name).toBe('RUNNING');
    await reconnected.connection.close();
  });
});
