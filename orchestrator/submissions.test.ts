import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileHashCache, scanSubmissions } from './submissions.js';

describe('scanSubmissions', () => {
  let root: string;
  const write = (path: string, text: string): void => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'submissions-'));
    write('alpha/main.py', 'print(1)\n');
    write('alpha/requirements.txt', 'condorgame==0.5.3\n');
    write('alpha/pkg/helper.py', 'X = 1\n');
    write('beta/main.py', 'print(2)\n');
    write('.hidden/main.py', '');
    write('notes.txt', 'not a folder');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('finds one submission per folder, with its requirements and whether it has main.py', () => {
    const found = scanSubmissions(root);
    expect([...found.keys()].sort()).toEqual(['alpha', 'beta']);
    expect(found.get('alpha')).toMatchObject({ requirements: 'condorgame==0.5.3\n', hasMain: true });
    expect(found.get('beta')).toMatchObject({ requirements: undefined, hasMain: true });
  });

  it('changes the fingerprint when any file changes, and only then', () => {
    const files = new FileHashCache();
    const before = scanSubmissions(root, files).get('alpha')?.fingerprint;
    expect(scanSubmissions(root, files).get('alpha')?.fingerprint).toBe(before);
    write('alpha/__pycache__/main.cpython-313.pyc', 'bytecode');
    expect(scanSubmissions(root, files).get('alpha')?.fingerprint).toBe(before);
    write('alpha/pkg/helper.py', 'X = 2\n');
    const edited = scanSubmissions(root, files).get('alpha')?.fingerprint;
    expect(edited).not.toBe(before);
    write('alpha/data.csv', 'a,b\n');
    expect(scanSubmissions(root, files).get('alpha')?.fingerprint).not.toBe(edited);
  });

  it('fails clearly when the folder does not exist', () => {
    expect(() => scanSubmissions(join(root, 'nope'))).toThrow(/submissions directory .* does not exist/);
  });
});
