import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CappedLog } from './capped-log.js';
import { DEFAULT_LIMITS, describeExit, limitsScript, modelEnvironment, RunnerProcess } from './runner-process.js';
import { processRunning as alive } from './testing/processes.js';

// Stands in for `model-runner`: reports what it was given, starts a grandchild, and optionally ignores SIGTERM.
const FAKE_RUNNER = `#!/bin/sh
[ -n "$IGNORE_TERM" ] && trap '' TERM
echo "args: $*"
echo "limits: vmem=$(ulimit -v) cpu=$(ulimit -t) fsize=$(ulimit -f)"
echo "secret: [\${DATABASE_URL:-none}] [\${TEMPORAL_ADDRESS:-none}]"
echo "home: $HOME"
sleep 300 &
echo "grandchild: $!"
wait
`;

describe('RunnerProcess', () => {
  let dir: string;
  let log: CappedLog;
  let fake: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'runner-process-'));
    fake = join(dir, 'fake-model-runner');
    writeFileSync(fake, FAKE_RUNNER);
    chmodSync(fake, 0o755);
    log = new CappedLog(join(dir, 'runner.log'), { maxBytes: 100_000 });
  });
  afterEach(() => {
    log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (extra: Record<string, string> = {}): RunnerProcess =>
    new RunnerProcess({
      modelRunner: fake,
      codeDir: dir,
      address: '127.0.0.1:45678',
      port: 45678,
      env: modelEnvironment(join(dir, 'env'), join(dir, 'home'), extra),
      limits: {
        ...DEFAULT_LIMITS,
        memoryBytes: 3 * 1024 ** 3,
        cpuSeconds: 120,
        fileSizeBytes: 1024 * 1024,
        processes: null,
      },
      log,
    });

  const output = async (pattern: RegExp): Promise<RegExpMatchArray> => {
    await expect.poll(() => readFileSync(log.path, 'utf8')).toMatch(pattern);
    return readFileSync(log.path, 'utf8').match(pattern) as RegExpMatchArray;
  };

  it('runs the model-runner with its arguments, limits and a scrubbed environment', async () => {
    process.env.DATABASE_URL = 'postgres://secret';
    try {
      const child = start();
      await output(/grandchild: \d+/);
      const text = readFileSync(log.path, 'utf8');
      expect(text).toContain(`args: --code-directory ${dir} --address 127.0.0.1:45678`);
      expect(text).toContain(`limits: vmem=${3 * 1024 * 1024} cpu=120 fsize=2048`);
      expect(text).toContain('secret: [none] [none]');
      expect(text).toContain(`home: ${join(dir, 'home')}`);
      await child.stop(2_000);
    } finally {
      delete process.env.DATABASE_URL;
    }
  });

  it('stops the whole process group with SIGTERM', async () => {
    const child = start();
    const grandchild = Number((await output(/grandchild: (\d+)/))[1]);
    expect(alive(grandchild)).toBe(true);
    const exit = await child.stop(5_000);
    expect(exit.signal).toBe('SIGTERM');
    await expect.poll(() => alive(grandchild)).toBe(false);
    expect(child.running).toBe(false);
  });

  it('escalates to SIGKILL when the model ignores SIGTERM', async () => {
    const child = start({ IGNORE_TERM: '1' });
    const grandchild = Number((await output(/grandchild: (\d+)/))[1]);
    const exit = await child.stop(300);
    expect(exit.signal).toBe('SIGKILL');
    await expect.poll(() => alive(grandchild)).toBe(false);
  });

  it('reports a command that cannot run as an exit, not a crash', async () => {
    const child = new RunnerProcess({
      modelRunner: join(dir, 'missing'),
      codeDir: dir,
      address: '127.0.0.1:1',
      port: 1,
      env: modelEnvironment(join(dir, 'env'), join(dir, 'home')),
      limits: { ...DEFAULT_LIMITS, memoryBytes: null, cpuSeconds: null, fileSizeBytes: null, processes: null, nice: 0 },
      log,
    });
    const exit = await child.exited;
    expect(exit.code).toBe(127);
    expect(describeExit(exit)).toBe('exited with code 127');
  });
});

describe('limitsScript', () => {
  it('sets only the limits given and then execs the command', () => {
    const base = { ...DEFAULT_LIMITS, cpuSeconds: null, fileSizeBytes: null, processes: null };
    const script = limitsScript({ ...base, memoryBytes: 1024 ** 3, nice: 0 });
    expect(script).toContain('ulimit -v 1048576 ||');
    expect(script).not.toContain('ulimit -t');
    expect(script.trim().endsWith('exec "$@"')).toBe(true);
    const lowered = limitsScript({ ...base, memoryBytes: null, processes: 64, nice: 10 });
    expect(lowered).toContain('ulimit -p 64 ||');
    expect(lowered.trim().endsWith('exec nice -n 10 "$@"')).toBe(true);
  });
});

describe('describeExit', () => {
  it('names the CPU limit when the kernel enforced it', () => {
    expect(describeExit({ code: null, signal: 'SIGXCPU' })).toMatch(/CPU-time limit/);
    expect(describeExit({ code: null, signal: 'SIGKILL' })).toBe('was killed by SIGKILL');
  });
});
