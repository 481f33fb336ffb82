import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildEnvironment, EnvironmentBuildError, EnvironmentCache } from './environments.js';
import type { PythonInterpreter } from './python.js';

// A stand-in interpreter: `-m venv DIR` makes a skeleton whose bin/python answers `-m pip install`
// like pip would (a console script with an absolute shebang), slowly enough for builds to overlap,
// failing on a requirement named does-not-exist. Each install is counted in $INSTALLS.
const FAKE_PYTHON = `#!/bin/sh
if [ "$1 $2" = "-m venv" ]; then
  mkdir -p "$3/bin"
  echo "command = fake -m venv $3" > "$3/pyvenv.cfg"
  cp "$0" "$3/bin/python"
  exit 0
fi
if [ "$1 $2 $3" = "-m pip install" ]; then
  here=$(cd "$(dirname "$0")/.." && pwd)
  echo "pip install $*"
  if grep -q does-not-exist "$7"; then
    echo "ERROR: No matching distribution found for does-not-exist" >&2
    exit 1
  fi
  sleep 0.3
  printf '#!%s/bin/python\\nimport model_runner\\n' "$here" > "$here/bin/model-runner"
  chmod +x "$here/bin/model-runner"
  echo install >> "$INSTALLS"
  exit 0
fi
exit 2
`;

describe('EnvironmentCache', () => {
  let root: string;
  let python: PythonInterpreter;
  let installs: string;
  let requirementsPath: string;
  const installCount = (): number => (existsSync(installs) ? readFileSync(installs, 'utf8').split('\n').length - 1 : 0);
  const cache = (): EnvironmentCache =>
    new EnvironmentCache({ cacheDir: join(root, 'envs'), python, env: { ...buildEnvironment(), INSTALLS: installs } });
  const request = (label = 'model-a', output?: (text: string) => void) => ({
    requirements: readFileSync(requirementsPath, 'utf8'),
    requirementsPath,
    cwd: root,
    label,
    ...(output ? { output } : {}),
  });

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'env-cache-'));
    const executable = join(root, 'python3');
    writeFileSync(executable, FAKE_PYTHON);
    chmodSync(executable, 0o755);
    python = { executable, realPath: executable, version: '3.13.0', major: 3, minor: 13, patch: 0 };
    installs = join(root, 'installs');
    requirementsPath = join(root, 'requirements.txt');
    writeFileSync(requirementsPath, 'condorgame==0.5.3\n');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('builds once, in place under its hash, and reuses it afterwards', async () => {
    const output: string[] = [];
    const built = await cache().ensure(request('model-a', (text) => output.push(text)));
    expect(built.reused).toBe(false);
    expect(built.dir).toBe(join(root, 'envs', built.hash));
    expect(output.join('')).toMatch(/building environment for model-a \(requirements hash [0-9a-f]{16}\)/);
    // Built elsewhere then renamed: scripts must name the final folder.
    expect(readFileSync(built.modelRunner, 'utf8').split('\n')[0]).toBe(`#!${built.dir}/bin/python`);
    expect(readFileSync(join(built.dir, 'pyvenv.cfg'), 'utf8')).toContain(built.dir);
    expect(readdirSync(join(root, 'envs')).sort()).toEqual([built.hash]);

    const again = await cache().ensure(request('model-b'));
    expect(again).toMatchObject({ reused: true, dir: built.dir });
    expect(installCount()).toBe(1);
  });

  it('builds a hash once when several ask at the same time', async () => {
    const [a, b, c] = await Promise.all([
      cache().ensure(request('a')),
      cache().ensure(request('b')),
      cache().ensure(request('c')),
    ]);
    expect(new Set([a?.dir, b?.dir, c?.dir]).size).toBe(1);
    expect([a, b, c].filter((environment) => !environment?.reused)).toHaveLength(1);
    expect(installCount()).toBe(1);
  });

  it('keys environments on the requirements and the interpreter', () => {
    const first = cache();
    expect(first.hashOf('a')).toBe(cache().hashOf('a'));
    expect(first.hashOf('a')).not.toBe(first.hashOf('b'));
    const other = new EnvironmentCache({ cacheDir: join(root, 'envs'), python: { ...python, version: '3.13.1' } });
    expect(other.hashOf('a')).not.toBe(first.hashOf('a'));
  });

  it("fails with pip's error, leaves nothing behind, and tries again next time", async () => {
    writeFileSync(requirementsPath, 'does-not-exist==1.0\n');
    const output: string[] = [];
    const failure = await cache()
      .ensure(request('broken', (text) => output.push(text)))
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(EnvironmentBuildError);
    expect((failure as EnvironmentBuildError).message).toMatch(/pip install failed \(exit 1\)/);
    expect((failure as EnvironmentBuildError).outputTail).toContain(
      'No matching distribution found for does-not-exist',
    );
    expect(output.join('')).toContain('No matching distribution found for does-not-exist');
    expect(readdirSync(join(root, 'envs'))).toEqual([]);
    await expect(cache().ensure(request('broken'))).rejects.toThrow(EnvironmentBuildError);
  });

  it('waits for a lock held by another live process, and takes it over once that process is gone', async () => {
    const environments = cache();
    const hash = environments.hashOf(readFileSync(requirementsPath, 'utf8'));
    const holder = spawn('sleep', ['60']);
    const holderExited = new Promise((resolve) => holder.once('exit', resolve));
    mkdirSync(join(root, 'envs'), { recursive: true });
    writeFileSync(join(root, 'envs', `${hash}.lock`), String(holder.pid));
    const output: string[] = [];
    let settled = false;
    const ensuring = environments.ensure(request('waiter', (text) => output.push(text))).finally(() => {
      settled = true;
    });
    await expect.poll(() => output.join('')).toMatch(/another process is building environment/);
    expect(settled).toBe(false);
    expect(installCount()).toBe(0);
    holder.kill('SIGKILL');
    await holderExited;
    const environment = await ensuring;
    expect(environment.reused).toBe(false);
    expect(existsSync(join(root, 'envs', `${hash}.lock`))).toBe(false);
  });
});

describe('buildEnvironment', () => {
  it("keeps pip's configuration and drops everything else", () => {
    const env = buildEnvironment({
      PATH: '/usr/bin',
      HOME: '/root',
      PIP_INDEX_URL: 'https://mirror',
      https_proxy: 'http://proxy',
      DATABASE_URL: 'postgres://secret',
      TEMPORAL_ADDRESS: 'localhost:7233',
      GITHUB_TOKEN: 'secret',
    });
    expect(env).toMatchObject({
      PATH: '/usr/bin',
      HOME: '/root',
      PIP_INDEX_URL: 'https://mirror',
      https_proxy: 'http://proxy',
    });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.TEMPORAL_ADDRESS).toBeUndefined();
    expect(env.GITHUB_TOKEN).toBeUndefined();
  });
});
