import type { Command } from 'commander';
import { readSettings } from '../../lib/config/index.js';
import type { TaskQueueName } from '../../lib/temporal/index.js';
import { allQueues, runWorkers } from '../../workers/run.js';

export function register(program: Command): void {
  program
    .command('worker')
    .description('run the Temporal workers of one task queue, or all of them, until SIGINT/SIGTERM')
    .option('--queue <name>', `${allQueues.join(' | ')} | all`, 'all')
    .action(async (options: { queue: string }) => {
      const queues =
        options.queue === 'all' ? allQueues : allQueues.filter((queue) => queue === (options.queue as TaskQueueName));
      if (queues.length === 0) {
        console.error(`unknown queue "${options.queue}": use ${allQueues.join(', ')} or all`);
        process.exitCode = 2;
        return;
      }
      const workers = await runWorkers(queues, readSettings());
      const stop = () => void workers.stop();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await workers.done;
    });
}
