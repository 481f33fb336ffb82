import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPython, probePython } from './python.js';

describe('findPython', () => {
  let root: string;
  // Fake interpreters that answer the version probe as a real one would.
  const fake = (version: string): string => {
    const bin = join(root, 'versions', version, 'bin');
    mkdirSync(bin, { recursive: true });
    const path = join(bin, 'python3');
    writeFileSync(path, `#!/bin/sh\necho "${version.split('.').join(' ')}"\necho "${path}"\n`);
    chmodSync(path, 0o755);
    return path;
  };
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'pyenv-'));
    fake('3.11.9');
    fake('3.12.7');
    fake('3.14.2');
    fake('3.13.1');
    mkdirSync(join(root, 'versions', 'miniconda3-latest'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('picks the newest pyenv version >= 3.12', async () => {
    const python = await findPython({ pyenvRoot: root, pathNames: [] });
    expect(python).toMatchObject({
      version: '3.14.2',
      major: 3,
      minor: 14,
      realPath: join(root, 'versions', '3.14.2', 'bin', 'python3'),
    });
  });

  it('uses the interpreter it is given, if new enough', async () => {
    const chosen = join(root, 'versions', '3.12.7', 'bin', 'python3');
    expect((await findPython({ executable: chosen })).version).toBe('3.12.7');
    await expect(findPython({ executable: join(root, 'versions', '3.11.9', 'bin', 'python3') })).rejects.toThrow(
      /is 3\.11\.9; models need Python >= 3\.12/,
    );
    await expect(findPython({ executable: join(root, 'nope') })).rejects.toThrow(/does not run/);
  });

  it('says what to do when nothing fits', async () => {
    await expect(findPython({ pyenvRoot: join(root, 'empty'), pathNames: ['no-such-python'] })).rejects.toThrow(
      /no Python >= 3\.12 found.*--python/,
    );
  });

  it('finds a real interpreter on this machine (the project needs one)', async () => {
    const python = await findPython();
    expect(python.minor).toBeGreaterThanOrEqual(12);
    expect(await probePython(python.realPath)).toMatchObject({ version: python.version });
  });
});
