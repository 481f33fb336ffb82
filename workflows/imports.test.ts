// Workflows run in Temporal's sandbox and are replayed: everything they load must be deterministic. Biome
// (biome.json) refuses the obvious imports in workflows/; this follows every file a workflow loads at
// run time, lib/ modules included, so a deterministic-looking helper that pulls in I/O is caught too.
import { readdirSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runtimeClosure } from '../test/support/imports.js';

const root = resolve(import.meta.dirname, '..');
/** The only packages workflow code may load: the workflow SDK and its deterministic common types. */
const allowedPackages = new Set(['@temporalio/workflow', '@temporalio/common']);
/** Folders workflow code may load from. */
const allowedFolders = ['workflows/', 'lib/'];

describe('workflow imports', () => {
  const closure = runtimeClosure(resolve(root, 'workflows', 'index.ts'));

  it('follow the workflows into the lib/ modules they load', () => {
    const files = [...closure.keys()].map((file) => relative(root, file));
    expect(files).toContain('workflows/score-pass.ts');
    expect(files.some((file) => file.startsWith('lib/'))).toBe(true);
  });

  it('load only the workflow SDK and deterministic code of workflows/ and lib/', () => {
    const problems: string[] = [];
    for (const [file, packages] of closure) {
      const name = relative(root, file);
      if (!allowedFolders.some((folder) => name.startsWith(folder))) problems.push(`${name} is loaded by a workflow`);
      for (const specifier of packages) {
        if (!allowedPackages.has(specifier)) problems.push(`${name} imports ${specifier}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('call activities through workflows/queues.ts only, so no workflow writes a retry policy of its own', () => {
    const own = readdirSync(resolve(root, 'workflows'))
      .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && file !== 'queues.ts')
      .filter((file) => /\bproxy(Local)?Activities\b/.test(readFileSync(resolve(root, 'workflows', file), 'utf8')));
    expect(own).toEqual([]);
  });
});
