import { resolve } from 'node:path';
import type { Command } from 'commander';
import { startStack } from '../stack.js';

const repoRoot = resolve(import.meta.dirname, '..', '..');

export function register(program: Command): void {
  program
    .command('start')
    .description(
      'the whole coordinator on this machine: Temporal dev server and Web UI, PostgreSQL, the local orchestrator ' +
        'running the example submissions, all workers, the schedules and the report gateway (Ctrl-C stops it all)',
    )
    .option('--submissions <dir>', 'submission folders to run as models', resolve(repoRoot, 'examples', 'submissions'))
    .option('--data-dir <dir>', 'where the local services keep their state', resolve(repoRoot, '.data'))
    .option('--no-orchestrator', 'do not run the local orchestrator (ORCHESTRATOR_URL points at another one)')
    .option('--orchestrator-http-port <port>', 'HTTP API of the local orchestrator', '8001')
    .action(
      async (options: {
        submissions: string;
        dataDir: string;
        orchestrator: boolean;
        orchestratorHttpPort: string;
      }) => {
        const stack = await startStack({
          submissionsDir: resolve(options.submissions),
          dataDir: resolve(options.dataDir),
          orchestrator: options.orchestrator,
          orchestratorHttpPort: Number(options.orchestratorHttpPort),
        });
        const width = Math.max(...Object.keys(stack.urls).map((name) => name.length));
        console.log('\nThe coordinator is running:');
        for (const [name, url] of Object.entries(stack.urls)) console.log(`  ${name.padEnd(width)}  ${url}`);
        console.log('Press Ctrl-C to stop everything.\n');
        await new Promise<void>((done) => {
          process.once('SIGINT', done);
          process.once('SIGTERM', done);
        });
        console.log('stopping ...');
        await stack.stop();
        console.log('stopped');
      },
    );
}
