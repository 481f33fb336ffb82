import type { Command } from 'commander';
import { WebSocket } from 'ws';
import { readSettings } from '../../lib/config/index.js';
import { type ModelState, parseDiscoveryMessage } from '../../lib/model-runner/index.js';

/** The orchestrator's current model list: the `init` frame every new discovery connection gets. */
export function announcedModels(url: string, timeoutMs: number): Promise<ModelState[]> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`no model list from ${url} within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = (error: Error | null, states: ModelState[] = []) => {
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else resolve(states);
    };
    socket.on('message', (data) => {
      const message = parseDiscoveryMessage(data.toString());
      if (message.kind === 'init') finish(null, message.states);
      else if (message.kind === 'error') finish(new Error(`the orchestrator says: ${message.message}`));
    });
    socket.on('error', (error) => finish(new Error(`cannot reach the orchestrator at ${url}: ${error.message}`)));
  });
}

export function register(program: Command): void {
  program
    .command('models')
    .description('the models the orchestrator announces now: id, name, cruncher, address, deployment')
    .option('--orchestrator <url>', 'discovery WebSocket (default ORCHESTRATOR_URL)')
    .option('--json', 'one JSON line per model instead of a table')
    .action(async (options: { orchestrator?: string; json?: boolean }) => {
      const url = options.orchestrator ?? readSettings().ORCHESTRATOR_URL;
      try {
        const models = await announcedModels(url, 10_000);
        if (options.json) {
          for (const model of models) console.log(JSON.stringify(model));
          return;
        }
        if (models.length === 0) {
          console.log(`no model is running at ${url}`);
          return;
        }
        const rows = models.map((model) => [
          model.modelId,
          model.infos.modelName ?? '',
          model.infos.cruncherName ?? '',
          model.state,
          `${model.ip ?? '?'}:${model.port ?? '?'}`,
          model.deploymentId,
        ]);
        const header = ['model', 'name', 'cruncher', 'state', 'address', 'deployment'];
        const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
        for (const row of [header, ...rows]) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));
      } catch (error) {
        console.error((error as Error).message);
        process.exitCode = 1;
      }
    });
}
