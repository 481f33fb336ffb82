import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { condor } from '../../lib/game/index.js';
import type { Logger } from '../../lib/log/index.js';
import { type ModelInfo, ModelRunnerClient } from '../../lib/model-runner/index.js';
import type { EndpointsReply, EndpointsRequest } from './endpoints.js';

/** N fake model endpoints in a child process, and one ModelRunnerClient that knows them from a static list. */
export class BenchFleet {
  private constructor(
    private readonly child: ChildProcess,
    readonly client: ModelRunnerClient,
    readonly models: ModelInfo[],
    /** The answer to `predict`, as the endpoints send it (Python json.dumps text). */
    readonly answerBytes: number,
  ) {}

  /** `silent`: how many endpoints (the first ones) never answer predict; `steps`: densities per answer. */
  static async start(
    count: number,
    prefix: string,
    logger: Logger,
    options: { silent?: number; steps?: number } = {},
  ): Promise<BenchFleet> {
    const child = fork(resolve(import.meta.dirname, 'endpoints.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await once(child, 'spawn');
    let client: ModelRunnerClient | undefined;
    try {
      const { ports, answerBytes } = (await request(child, { command: 'listen', count, ...options })) as {
        ports: number[];
        answerBytes: number;
      };
      const models = ports.map((port, i) => ({
        modelId: `${prefix}-${i}`,
        deploymentId: `${prefix}-${i}_20250101_000000_000`,
        name: `${prefix} model ${i}`,
        cruncherId: `cruncher-${i}`,
        cruncherName: `cruncher ${i}`,
        ip: '127.0.0.1',
        port,
      }));
      client = new ModelRunnerClient({
        className: condor.setupClassName,
        models,
        reportFailures: false,
        logger,
      });
      await client.start();
      await client.waitForModels(count, 120_000);
      return new BenchFleet(child, client, models, answerBytes);
    } catch (error) {
      await client?.close();
      child.kill('SIGKILL');
      throw error;
    }
  }

  /** Calls the endpoints received since the last look. */
  async calls(): Promise<{ ticks: number; predicts: number }> {
    return (await request(this.child, { command: 'stats' })) as { ticks: number; predicts: number };
  }

  /** Makes every endpoint's `tick` fail with MODEL_FAILED and this message (null: succeed again). */
  async failTicks(message: string | null): Promise<void> {
    await request(this.child, { command: 'fail-ticks', message });
  }

  async stop(): Promise<void> {
    await this.client.close();
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.send({ command: 'exit' } satisfies EndpointsRequest);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

function request(child: ChildProcess, message: EndpointsRequest): Promise<EndpointsReply> {
  return new Promise((resolve, reject) => {
    const onMessage = (answer: EndpointsReply) => {
      child.off('exit', onExit);
      resolve(answer);
    };
    const onExit = (code: number | null, signal: string | null) => {
      child.off('message', onMessage);
      reject(new Error(`the endpoints process exited (${signal ?? `code ${code}`}) before answering`));
    };
    child.once('message', onMessage);
    child.once('exit', onExit);
    child.send(message);
  });
}
