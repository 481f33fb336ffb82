// `coordinator start` as its own process on free ports, configured by environment as a coordinator
// would, for the tests that watch a whole stack (test/start.test.ts, test/fair-cadence.test.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { freePort } from './model-processes.js';
import { repoRoot } from './tools.js';

export interface StackPorts {
  temporal: number;
  ui: number;
  discovery: number;
  orchestratorHttp: number;
  gateway: number;
}

export interface StartedStack {
  child: ChildProcess;
  ports: StackPorts;
  /** What the stack printed so far (stdout and stderr, the last 200,000 characters). */
  output(): string;
}

export async function startCoordinator(options: {
  /** Its submissions folder and data folder live here (`submissions/`, `data/`). */
  work: string;
  databaseUrl: string;
  game: string;
  marketData: string;
}): Promise<StartedStack> {
  const ports: StackPorts = { temporal: 0, ui: 0, discovery: 0, orchestratorHttp: 0, gateway: 0 };
  for (const key of Object.keys(ports) as Array<keyof StackPorts>) ports[key] = await freePort();
  const child = spawn(
    process.execPath,
    [
      resolve(repoRoot, 'bin/coordinator.mjs'),
      'start',
      '--submissions',
      join(options.work, 'submissions'),
      '--data-dir',
      join(options.work, 'data'),
      '--orchestrator-http-port',
      String(ports.orchestratorHttp),
    ],
    {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: options.databaseUrl,
        TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
        TEMPORAL_UI_PORT: String(ports.ui),
        ORCHESTRATOR_URL: `ws://127.0.0.1:${ports.discovery}/condorgame`,
        GATEWAY_PORT: String(ports.gateway),
        GAME: options.game,
        MARKET_DATA: options.marketData,
        SCORE_EVERY_SECONDS: '10',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-200_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, ports, output: () => output };
}
