// The repository explains itself: nothing it holds points at files outside it (a design note on someone's
// machine, a path of a developer's checkout), and every `docs/<page>.md#<anchor>` it mentions exists.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './support/tools.js';

const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: repoRoot, encoding: 'utf8' })
  .split('\0')
  .filter((file) => file !== '' && existsSync(resolve(repoRoot, file)));

/** Text files: what a reader or a program follows references in. Recorded histories are data. */
const textFiles = tracked.filter(
  (file) =>
    /\.(ts|mjs|js|py|md|sql|proto|ya?ml|json|toml|txt|sh)$|(^|\/)(Dockerfile|run)$/.test(file) &&
    !file.startsWith('test/fixtures/') &&
    file !== 'package-lock.json',
);

// Built from pieces, so this file does not match itself.
const outside: Array<[RegExp, string]> = [
  [new RegExp(['\\.\\.', 'shared'].join('/')), 'a folder beside the repository'],
  [new RegExp(`/${'work'}/`), 'a path of a development machine'],
  [new RegExp(`/(${['home', 'root', 'Users'].join('|')})/[A-Za-z]`), 'an absolute home path'],
  [
    new RegExp(`\\b(${['GAME', 'PROTOCOL', 'ARCHITECTURE', 'PRODUCTION', 'EMISSION'].join('|')})\\.md\\b`),
    'a design note that is not in the repository (the pages are docs/*.md)',
  ],
];

/**
 * Applied migrations are never edited (the runner refuses a changed checksum), so their comments keep the
 * names of the design notes they were written against; sql/README.md maps those names to docs/ pages.
 */
const appliedMigrations = new Set(['sql/001_models_prices_predictions.sql']);

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchorsIn(markdown: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = !fenced && /^#{1,6} (.+)$/.exec(line);
    if (heading) anchors.add(anchorOf(heading[1]!));
  }
  return anchors;
}

describe('references', () => {
  it('scan the tracked text files', () => {
    expect(textFiles.length).toBeGreaterThan(100);
    expect(textFiles).toContain('README.md');
  });

  it('point into the repository only', () => {
    const found: string[] = [];
    for (const file of textFiles.filter((name) => !appliedMigrations.has(name))) {
      readFileSync(resolve(repoRoot, file), 'utf8')
        .split('\n')
        .forEach((line, index) => {
          for (const [pattern, what] of outside) {
            const match = pattern.exec(line);
            if (match) found.push(`${file}:${index + 1}: "${match[0]}" is ${what}`);
          }
        });
    }
    expect(found).toEqual([]);
  });

  it('name docs pages and headings that exist', () => {
    const missing: string[] = [];
    const anchors = new Map<string, Set<string>>();
    for (const file of textFiles) {
      const text = readFileSync(resolve(repoRoot, file), 'utf8');
      for (const match of text.matchAll(/\bdocs\/([a-z0-9-]+\.md)(?:#([a-z0-9-]+))?/g)) {
        const page = `docs/${match[1]}`;
        if (!existsSync(resolve(repoRoot, page))) {
          missing.push(`${file}: ${page} does not exist`);
          continue;
        }
        if (!anchors.has(page)) anchors.set(page, anchorsIn(readFileSync(resolve(repoRoot, page), 'utf8')));
        if (match[2] && !anchors.get(page)!.has(match[2])) missing.push(`${file}: ${page} has no heading #${match[2]}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
