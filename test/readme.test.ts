import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { settingsHelp } from '../lib/config/index.js';
import { repoRoot } from './support/tools.js';

const readme = readFileSync(resolve(repoRoot, 'README.md'), 'utf8');

describe('README', () => {
  it('shows the two set-up commands', () => {
    expect(readme).toContain('npm start');
    expect(readme).toContain('npm test');
  });

  it('documents every setting the code reads, with its default', () => {
    for (const setting of settingsHelp()) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${setting.name}\` |`));
      expect(row, `README configuration table lacks ${setting.name}`).toBeDefined();
      if (setting.default && setting.name !== 'MARKET_DATA') expect(row).toContain(`\`${setting.default}\``);
    }
  });
});
