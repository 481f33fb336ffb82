import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * How participant code is isolated: a bubblewrap sandbox per process (own PID, network, IPC and UTS
 * namespaces; a filesystem of read-only views; a private capped home and tmp; an unprivileged uid),
 * or nothing at all, which the orchestrator only accepts for submissions its operator marks trusted.
 */
export type Isolation =
  | {
      kind: 'bubblewrap';
      bwrap: string;
      /** As root, bwrap runs privileged and the sandboxed command drops to a dedicated uid with setpriv. */
      asRoot: boolean;
    }
  | { kind: 'none'; reason: string };

/** Where things are inside every sandbox, whatever their host paths. */
export const SANDBOX_HOME = '/sandbox/home';
export const SANDBOX_TMP = '/tmp';
export const SANDBOX_RUN = '/run/model';

const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/** What a build needs of /etc to resolve names and trust certificates; a model gets none of it. */
const BUILD_ETC = [
  '/etc/resolv.conf',
  '/etc/hosts',
  '/etc/nsswitch.conf',
  '/etc/gai.conf',
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/pki',
  // pip reports the distribution it runs on.
  '/etc/os-release',
  '/etc/debian_version',
  '/etc/lsb-release',
];

function findCommand(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const path = join(dir || '.', name);
    if (existsSync(path)) return path;
  }
  return undefined;
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * Whether bubblewrap can sandbox here: it is installed, and a trial sandbox with every namespace we
 * use (and, as root, the uid drop) runs. The reason says what is missing in one line.
 */
export function detectIsolation(): Isolation {
  const bwrap = findCommand('bwrap');
  if (!bwrap) {
    return {
      kind: 'none',
      reason: 'bubblewrap (bwrap) is not installed: `apt-get install bubblewrap` (npm run setup does it as root)',
    };
  }
  const isolation: Isolation = { kind: 'bubblewrap', bwrap, asRoot: isRoot() };
  const trial = sandboxCommand(isolation, { uid: 65534, network: false, tmpfsBytes: 1024 ** 2 }, ['/bin/true']);
  const result = spawnSync(trial.command, trial.args, { encoding: 'utf8', timeout: 15_000, env: {} });
  if (result.status !== 0) {
    const why = (result.stderr || result.error?.message || `exit ${result.status ?? result.signal}`)
      .trim()
      .split('\n')[0];
    return {
      kind: 'none',
      reason: `bubblewrap cannot create a sandbox here (${why}): user namespaces may be disabled`,
    };
  }
  return isolation;
}

/** A dedicated uid per model, stable across restarts: per-uid limits (processes) are then per model. */
export function sandboxUid(key: string): number {
  const hash = createHash('sha256').update(key).digest().readUInt32BE(0);
  // Far above the uids of real accounts (Debian's dynamic range ends at 60000; nobody is 65534).
  return 200_000 + (hash % 800_000);
}

export interface SandboxSpec {
  /** uid (and gid) the command runs as when the orchestrator is root; ignored otherwise (bwrap maps ours). */
  uid: number;
  /** Host paths mounted read-only at the same path (the environment, the submission, the Python install). */
  readOnly?: string[];
  /** Host paths mounted writable at the same path (a build's target folder). */
  writable?: string[];
  /** A host folder mounted writable at SANDBOX_RUN (the model's Unix socket). */
  runDir?: string;
  /** Network access (builds need PyPI); models get an empty network namespace. */
  network: boolean;
  /** Size of each private tmpfs (home and tmp). */
  tmpfsBytes: number;
  /** Working directory inside (default the home). */
  cwd?: string;
}

/** Paths that must exist as directories inside before a mount at `path` (bwrap would make them 0700). */
function ancestors(path: string): string[] {
  const list: string[] = [];
  for (let dir = dirname(path); dir !== '/' && dir !== '.'; dir = dirname(dir)) list.unshift(dir);
  return list;
}

/** The command line that runs `command` in a sandbox as `spec` describes. */
export function sandboxCommand(
  isolation: Extract<Isolation, { kind: 'bubblewrap' }>,
  spec: SandboxSpec,
  command: string[],
): { command: string; args: string[] } {
  const args = [
    // The sandbox is killed when the orchestrator dies (PR_SET_PDEATHSIG), whatever killed it, and
    // everything in its PID namespace dies with its first process: no child outlives its model.
    '--die-with-parent',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    '--hostname',
    'sandbox',
    // setsid: no access to the orchestrator's terminal (TIOCSTI).
    '--new-session',
  ];
  if (!spec.network) args.push('--unshare-net');
  if (!isolation.asRoot) args.push('--unshare-user', '--disable-userns');
  const made = new Set<string>(['/']);
  const makeParents = (path: string): void => {
    for (const dir of ancestors(path)) {
      if (made.has(dir)) continue;
      made.add(dir);
      args.push('--perms', '0755', '--dir', dir);
    }
    made.add(path);
  };
  for (const dir of SYSTEM_DIRS) {
    let stats: ReturnType<typeof lstatSync>;
    try {
      stats = lstatSync(dir);
    } catch {
      continue;
    }
    // Debian's merged /usr: /bin -> usr/bin and so on; the same links inside.
    if (stats.isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
    else args.push('--ro-bind', dir, dir);
    made.add(dir);
  }
  if (spec.network) {
    for (const path of BUILD_ETC) {
      if (!existsSync(path)) continue;
      makeParents(path);
      args.push('--ro-bind', path, path);
    }
  }
  args.push('--proc', '/proc', '--dev', '/dev');
  args.push('--size', String(spec.tmpfsBytes), '--perms', '1777', '--tmpfs', SANDBOX_TMP);
  makeParents(SANDBOX_HOME);
  args.push('--size', String(spec.tmpfsBytes), '--perms', '1777', '--tmpfs', SANDBOX_HOME);
  for (const path of spec.readOnly ?? []) {
    // Already visible (a system interpreter under /usr).
    if (SYSTEM_DIRS.some((dir) => path === dir || path.startsWith(`${dir}/`))) continue;
    makeParents(path);
    args.push('--ro-bind', path, path);
  }
  for (const path of spec.writable ?? []) {
    makeParents(path);
    args.push('--bind', path, path);
  }
  if (spec.runDir) {
    makeParents(SANDBOX_RUN);
    args.push('--bind', spec.runDir, SANDBOX_RUN);
  }
  args.push('--chdir', spec.cwd ?? SANDBOX_HOME);
  if (isolation.asRoot) {
    // bwrap as root keeps no capability but these three, which setpriv needs to become the model's
    // uid; it then clears every capability set, so the model is an ordinary user with no privilege.
    args.push('--cap-add', 'CAP_SETUID', '--cap-add', 'CAP_SETGID', '--cap-add', 'CAP_SETPCAP', '--');
    args.push(
      '/usr/bin/setpriv',
      `--reuid=${spec.uid}`,
      `--regid=${spec.uid}`,
      '--clear-groups',
      '--inh-caps=-all',
      '--bounding-set=-all',
      '--no-new-privs',
      '--',
    );
  } else {
    args.push('--');
  }
  args.push(...command);
  return { command: isolation.bwrap, args };
}

/** Where cgroup v2 stands here, in words for the start-up line (limits are rlimits either way). */
export function cgroupsV2Status(): string {
  for (const root of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
    let controllers: string[];
    try {
      controllers = readFileSync(join(root, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
    } catch {
      continue;
    }
    const missing = ['memory', 'pids', 'cpu'].filter((name) => !controllers.includes(name));
    return missing.length === 0
      ? `cgroup v2 controllers exist at ${root} but are not used yet`
      : `cgroup v2 at ${root} has no ${missing.join('/')} controller`;
  }
  return 'no cgroup v2 hierarchy';
}
