import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectIsolation, type Isolation, sandboxCommand, sandboxUid } from './sandbox.js';

const repoRoot = join(import.meta.dirname, '..');

describe('sandbox (bubblewrap, installed by npm run setup)', () => {
  let isolation: Extract<Isolation, { kind: 'bubblewrap' }>;
  let dir: string;

  beforeAll(() => {
    const found = detectIsolation();
    if (found.kind !== 'bubblewrap') throw new Error(`${found.reason} (run \`npm run setup\` as root)`);
    isolation = found;
    dir = mkdtempSync(join(tmpdir(), 'sandbox-unit-'));
    // The model's uid reads its views through their own permissions (a submission is usually 0755).
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'visible.txt'), 'mine\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (script: string, network = false) => {
    const command = sandboxCommand(
      isolation,
      { uid: sandboxUid('unit-test'), network, tmpfsBytes: 1024 ** 2, readOnly: [dir], cwd: dir },
      ['/bin/sh', '-c', script],
    );
    return spawnSync(command.command, command.args, { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', SECRET: 'x' } });
  };

  it('shows only its read-only views, a capped private tmp, and none of the coordinator', () => {
    const result = run(
      [
        'cat visible.txt',
        'ls /',
        `test -e ${join(repoRoot, 'package.json')} && echo REPO-VISIBLE`,
        'test -e /etc/passwd && echo ETC-VISIBLE',
        '(echo x > visible.txt) 2>/dev/null && echo WROTE-CODE',
        '(head -c 2000000 /dev/zero > /tmp/fill) 2>/dev/null; wc -c < /tmp/fill',
        'ls /proc | grep -c "^[0-9]"',
      ].join('; '),
    );
    expect(result.stderr).toBe('');
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe('mine');
    expect(result.stdout).not.toMatch(/REPO-VISIBLE|ETC-VISIBLE|WROTE-CODE/);
    // The 1 MiB tmpfs stops the 2 MB write.
    expect(Number(lines.at(-2))).toBeLessThanOrEqual(1024 ** 2);
    // Its own PID namespace: bwrap's init, the shell and ls (and grep).
    expect(Number(lines.at(-1))).toBeLessThanOrEqual(5);
  });

  it('runs as an unprivileged user with no capability, and without network unless asked', () => {
    const result = run('id -u; grep CapEff /proc/self/status; cat /sys/class/net/*/operstate 2>/dev/null | wc -l');
    const [uid, caps] = result.stdout.trim().split('\n');
    if (isolation.asRoot) expect(Number(uid)).toBe(sandboxUid('unit-test'));
    else expect(Number(uid)).toBe(process.getuid?.());
    expect(caps).toMatch(/CapEff:\s+0+$/);
    expect(sandboxCommand(isolation, { uid: 1, network: false, tmpfsBytes: 1 }, ['x']).args).toContain('--unshare-net');
    expect(sandboxCommand(isolation, { uid: 1, network: true, tmpfsBytes: 1 }, ['x']).args).not.toContain(
      '--unshare-net',
    );
  });

  it('gives each model its own stable uid far above real accounts', () => {
    expect(sandboxUid('a/m1')).toBe(sandboxUid('a/m1'));
    expect(sandboxUid('a/m1')).not.toBe(sandboxUid('a/m2'));
    expect(sandboxUid('a/m1')).toBeGreaterThanOrEqual(200_000);
  });
});
