import { Command } from 'commander';
import { settingsHelp } from '../lib/config/index.js';
import * as backfill from './commands/backfill.js';
import * as bundleWorkflows from './commands/bundle-workflows.js';
import * as gateway from './commands/gateway.js';
import * as migrate from './commands/migrate.js';
import * as models from './commands/models.js';
import * as orchestrator from './commands/orchestrator.js';
import * as probe from './commands/probe.js';
import * as schedules from './commands/schedules.js';
import * as scorePrediction from './commands/score-prediction.js';
import * as start from './commands/start.js';
import * as worker from './commands/worker.js';

const program = new Command('coordinator')
  .description('A coordinator node for CrunchDAO-style real-time prediction games, on Temporal')
  .showHelpAfterError();

// Each command lives in cli/commands/<name>.ts and exports `register(program)`.
const commands: Array<{ register: (program: Command) => void }> = [
  start,
  orchestrator,
  migrate,
  worker,
  schedules,
  models,
  probe,
  scorePrediction,
  gateway,
  backfill,
  bundleWorkflows,
];

for (const command of commands) command.register(program);

// Every command reads its settings from the environment; the root help names them all.
program.addHelpText('after', () => {
  const settings = settingsHelp();
  const width = Math.max(...settings.map((setting) => setting.name.length));
  const lines = settings.map(
    ({ name, default: fallback, help }) =>
      `  ${name.padEnd(width)}  ${help}${fallback ? ` (default: ${fallback})` : ''}`,
  );
  return `\nSettings (environment variables):\n${lines.join('\n')}\n`;
});

await program.parseAsync(process.argv);
