import { Command } from 'commander';

const program = new Command('coordinator')
  .description('A coordinator node for CrunchDAO-style real-time prediction games, on Temporal')
  .showHelpAfterError();

// Each command lives in cli/commands/<name>.ts and registers itself here.

await program.parseAsync(process.argv);
