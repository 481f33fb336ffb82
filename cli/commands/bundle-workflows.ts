import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { buildWorkflowBundle } from '../../workers/coordinator.js';

export function register(program: Command): void {
  program
    .command('bundle-workflows')
    .description(
      'build the workflow bundle ahead of time (the image does it at build time); workers load it with WORKFLOW_BUNDLE',
    )
    .requiredOption('--out <file>', 'where to write the bundle')
    .action(async (options: { out: string }) => {
      const out = resolve(options.out);
      const code = await buildWorkflowBundle();
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, code);
      console.log(
        `workflow bundle written to ${out} (${Math.round(code.length / 1024)} KiB): set WORKFLOW_BUNDLE=${out}`,
      );
    });
}
