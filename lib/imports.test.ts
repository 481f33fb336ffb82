// lib/ is the bottom layer: it never imports the applications and processes built on it, and only
// lib/temporal talks to Temporal (Biome refuses @temporalio imports elsewhere in lib/ as well).
import { readdirSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importsOf, resolveRelative } from '../test/support/imports.js';

const root = resolve(import.meta.dirname, '..');
const libFiles = readdirSync(import.meta.dirname, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
  .map((file) => resolve(import.meta.dirname, file));

describe('lib/ imports', () => {
  it('are found', () => {
    expect(libFiles.length).toBeGreaterThan(20);
  });

  it('stay inside lib/, types included', () => {
    const problems: string[] = [];
    for (const file of libFiles) {
      for (const { specifier } of importsOf(file)) {
        if (!specifier.startsWith('.')) continue;
        const target = relative(root, resolveRelative(file, specifier));
        if (!target.startsWith('lib/')) problems.push(`${relative(root, file)} imports ${target}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('reach Temporal from lib/temporal only', () => {
    const problems: string[] = [];
    for (const file of libFiles) {
      const name = relative(root, file);
      if (name.startsWith('lib/temporal/')) continue;
      for (const { specifier } of importsOf(file)) {
        if (specifier.startsWith('@temporalio/')) problems.push(`${name} imports ${specifier}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
