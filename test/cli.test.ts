import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestDiscoveryServer } from './support/discovery-server.js';
import { freePort } from './support/model-processes.js';
import { repoRoot } from './support/tools.js';

const run = promisify(execFile);

async function coordinator(args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [resolve(repoRoot, 'bin/coordinator.mjs'), ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('the coordinator command', () => {
  it('lists every command, each with its own help', async () => {
    const help = await coordinator(['--help']);
    expect(help.code).toBe(0);
    const commands = [
      'start',
      'migrate',
      'orchestrator',
      'worker',
      'backfill',
      'schedules',
      'models',
      'probe',
      'score-prediction',
      'gateway',
    ];
    for (const command of commands) expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    // The settings every command reads from the environment, with their defaults.
    expect(help.stdout).toMatch(/^Settings \(environment variables\):$/m);
    expect(help.stdout).toMatch(/^ {2}MODEL_TRANSPORT +gRPC to the models: .*\(default: http2\)$/m);
    expect(help.stdout).toMatch(/^ {2}DATABASE_URL +PostgreSQL connection URL/m);
    const schedules = await coordinator(['schedules', '--help']);
    for (const sub of ['list', 'pause', 'unpause', 'trigger', 'ensure']) expect(schedules.stdout).toContain(sub);
    const models = await coordinator(['models', '--help']);
    expect(models.stdout).toContain('--orchestrator');
  });

  describe('models', () => {
    let discovery: TestDiscoveryServer;
    beforeAll(async () => {
      discovery = await TestDiscoveryServer.start();
      discovery.announce({ modelId: 'alpha', port: 50001, name: 'Alpha', cruncherName: 'alice' });
      discovery.announce({ modelId: 'beta', port: 50002, name: 'Beta', cruncherName: 'bob', portAsString: true });
    });
    afterAll(async () => {
      await discovery?.close();
    });

    it('shows what the orchestrator announces', async () => {
      const table = await coordinator(['models', '--orchestrator', discovery.url]);
      expect(table.code).toBe(0);
      const lines = table.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^model\s+name\s+cruncher\s+state\s+address\s+deployment/);
      expect(lines[1]).toMatch(/^alpha\s+Alpha\s+alice\s+RUNNING\s+127\.0\.0\.1:50001\s+alpha_\d{8}_\d{6}_\d{3}$/);
      expect(lines[2]).toMatch(/^beta\s+Beta\s+bob\s+RUNNING\s+127\.0\.0\.1:50002/);
      const json = await coordinator(['models', '--orchestrator', discovery.url, '--json']);
      expect(
        json.stdout
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line).modelId),
      ).toEqual(['alpha', 'beta']);
    });

    it('says plainly when the orchestrator cannot be reached', async () => {
      const down = await coordinator(['models', '--orchestrator', `ws://127.0.0.1:${await freePort()}/condorgame`]);
      expect(down.code).toBe(1);
      expect(down.stderr).toMatch(/cannot reach the orchestrator at ws:\/\/127\.0\.0\.1:\d+\/condorgame/);
    });
  });
});
