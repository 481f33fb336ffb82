#!/usr/bin/env node
// One-shot, idempotent set-up shared by `npm start`, `npm test` and `npm run bench`.
// Plain Node with no dependencies: it runs on a fresh clone before `node_modules` exists.
// Each step is skipped when its stamp says it is up to date, so a warm run costs milliseconds.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const quiet = process.argv.includes('--quiet');
// `npm test` also needs what only the tests use (docker-compose, openssl, chromium, .venv-test).
const forTests = process.argv.includes('--tests');

function say(message) {
  if (!quiet) console.log(`[setup] ${message}`);
}

function fail(message) {
  console.error(`[setup] ${message}`);
  process.exit(1);
}

function sha256(...parts) {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.status !== 0) fail(`${cmd} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
}

function stampMatches(path, value) {
  return existsSync(path) && readFileSync(path, 'utf8') === value;
}

// --- npm packages -------------------------------------------------------------------------------
function ensureNodeModules() {
  const lock = readFileSync(join(root, 'package-lock.json'));
  const want = sha256(lock);
  const stamp = join(root, 'node_modules', '.setup-stamp');
  if (stampMatches(stamp, want)) return;
  // A fresh clone gets the exact lock (npm ci); an existing tree is brought up to date in place, so a
  // dependency added meanwhile does not wipe node_modules under a running process.
  const fresh = !existsSync(join(root, 'node_modules', '.package-lock.json'));
  say(fresh ? 'installing npm packages (npm ci) ...' : 'package-lock.json changed: updating npm packages ...');
  run('npm', [fresh ? 'ci' : 'install', '--no-audit', '--no-fund']);
  writeFileSync(stamp, want);
}

// --- Python interpreter ---------------------------------------------------------------------------
function pythonVersion(executable) {
  try {
    const out = execFileSync(executable, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const [major, minor] = out.trim().split('.').map(Number);
    return { major, minor };
  } catch {
    return undefined;
  }
}

function candidateInterpreters() {
  const found = [];
  const pyenvRoot = process.env.PYENV_ROOT ?? join(process.env.HOME ?? '/root', '.pyenv');
  const versionsDir = join(pyenvRoot, 'versions');
  if (existsSync(versionsDir)) {
    for (const name of readdirSync(versionsDir)) {
      if (/^3\.\d+\.\d+$/.test(name)) found.push(join(versionsDir, name, 'bin', 'python3'));
    }
  }
  for (const name of ['python3.14', 'python3.13', 'python3.12', 'python3']) found.push(name);
  return found;
}

/** The newest interpreter >= 3.12 (condorgame >= 0.5 needs it), unless COORDINATOR_PYTHON names one. */
function findPython() {
  const forced = process.env.COORDINATOR_PYTHON;
  if (forced) {
    const version = pythonVersion(forced);
    if (!version) fail(`COORDINATOR_PYTHON=${forced} does not run`);
    return { executable: forced, ...version };
  }
  let best;
  for (const executable of candidateInterpreters()) {
    const version = pythonVersion(executable);
    if (version?.major !== 3 || version.minor < 12) continue;
    if (!best || version.minor > best.minor) best = { executable, ...version };
  }
  if (!best) {
    fail(
      'no Python >= 3.12 found (condorgame >= 0.5 needs it). Install one (e.g. `pyenv install 3.13`) ' +
        'or point COORDINATOR_PYTHON at an interpreter.',
    );
  }
  return best;
}

function ensureVenv(python, dir, requirementsFile, label) {
  const requirements = readFileSync(join(root, requirementsFile));
  const want = sha256(requirements, python.executable);
  const venv = join(root, dir);
  const stamp = join(venv, '.setup-stamp');
  if (stampMatches(stamp, want)) return;
  say(`building ${label} in ${dir} with Python ${python.major}.${python.minor} (${requirementsFile}) ...`);
  rmSync(venv, { recursive: true, force: true });
  run(python.executable, ['-m', 'venv', venv]);
  run(join(venv, 'bin', 'python'), ['-m', 'pip', 'install', '--disable-pip-version-check', '-r', requirementsFile]);
  writeFileSync(stamp, want);
  say(`${label} ready`);
}

// --- PostgreSQL -----------------------------------------------------------------------------------
function canConnect(host, port) {
  return new Promise((done) => {
    const socket = net.connect({ host, port, timeout: 1000 });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
    socket.once('timeout', () => {
      socket.destroy();
      done(false);
    });
  });
}

// `npm start` falls back to an embedded PostgreSQL (cli/database.ts) when none answers; the tests need the
// machine's server (faster, and what CI has), so only `--tests` insists on it.
async function ensurePostgres() {
  if (process.env.DATABASE_URL) return; // the user's database: theirs to run
  if (await canConnect('127.0.0.1', 5432)) return;
  const noServer = (why) => {
    if (forTests) fail(`${why}; the tests need one: install PostgreSQL or set DATABASE_URL`);
    say(`${why}: npm start will run an embedded PostgreSQL`);
  };
  const clusters = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql') : [];
  if (clusters.length === 0) return noServer('no PostgreSQL on 127.0.0.1:5432 and no local cluster to start');
  say(`starting the local PostgreSQL cluster ${clusters[0]}/main ...`);
  const started = spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', clusters[0], 'main', 'start'], {
    stdio: 'inherit',
  });
  if (started.status !== 0) return noServer(`the local PostgreSQL cluster ${clusters[0]}/main did not start`);
  for (let i = 0; i < 30; i++) {
    if (await canConnect('127.0.0.1', 5432)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  noServer('PostgreSQL was started but does not accept connections on 127.0.0.1:5432');
}

// --- test-only tools ---------------------------------------------------------------------------
function commandExists(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** A command the tests need, from its Debian package when it is missing (as root, with apt-get). */
function ensureDebianTool(command, debianPackage, purpose) {
  if (commandExists(command)) return;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root || !commandExists('apt-get')) {
    say(`${command} is missing and cannot be installed here (needs apt-get as root): its test will say how`);
    return;
  }
  say(`installing ${debianPackage} from Debian (${purpose}) ...`);
  const install = () => spawnSync('apt-get', ['install', '-y', '-q', debianPackage], { stdio: 'ignore' }).status === 0;
  if (install()) return;
  spawnSync('apt-get', ['update', '-q'], { stdio: 'ignore' });
  if (!install()) say(`apt-get could not install ${debianPackage}: its test will say how`);
}

ensureNodeModules();
// bubblewrap sandboxes the orchestrator's submissions (strangers' code): without it, it runs none
// unless they are marked trusted.
ensureDebianTool('bwrap', 'bubblewrap', 'the orchestrator sandboxes submissions with it');
if (forTests) {
  // Debian's docker-compose validates docker-compose.yml without a Docker engine (none runs here).
  ensureDebianTool('docker-compose', 'docker-compose', 'the compose file test uses it');
  // The secure-mode tests make their test CA and certificates with it.
  ensureDebianTool('openssl', 'openssl', 'the secure-mode tests make their certificates with it');
  // The dashboard's browser test drives it through playwright-core.
  ensureDebianTool('chromium', 'chromium', 'the dashboard browser test drives it');
}
const python = findPython();
ensureVenv(python, '.venv', 'python/requirements-tools.txt', 'the tool environment (Temporal CLI, reference client)');
ensureVenv(python, '.venv-runner', 'python/requirements-runner.txt', 'the model runtime (crunch-model-runner)');
if (forTests) ensureVenv(python, '.venv-test', 'python/requirements-test.txt', 'the test tools (schemathesis)');
await ensurePostgres();
