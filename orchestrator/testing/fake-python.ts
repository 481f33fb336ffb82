// A stand-in Python for fast tests of the orchestrator's state machine: `-m venv` and `-m pip install`
// take milliseconds, and the `model-runner` it installs is a small Node gRPC server that answers the
// health check SERVING, or exits at once when its code directory holds a file named `crash`.
import { chmodSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { PythonInterpreter } from '../python.js';

const repoRoot = resolve(import.meta.dirname, '..', '..');

const fakeModelRunner = (): string => `#!${process.execPath}
const fs = require('node:fs');
const args = process.argv.slice(2);
const codeDir = args[args.indexOf('--code-directory') + 1];
const address = args[args.indexOf('--address') + 1];
if (fs.existsSync(codeDir + '/crash')) {
  console.error('fake model-runner: crashing on purpose');
  process.exit(3);
}
const grpc = require(${JSON.stringify(join(repoRoot, 'node_modules', '@grpc', 'grpc-js'))});
const loader = require(${JSON.stringify(join(repoRoot, 'node_modules', '@grpc', 'proto-loader'))});
const definition = loader.loadSync(${JSON.stringify(join(repoRoot, 'proto', 'health.proto'))});
const health = grpc.loadPackageDefinition(definition).grpc.health.v1.Health;
const server = new grpc.Server();
server.addService(health.service, { Check: (_call, done) => done(null, { status: 'SERVING' }), Watch: () => {} });
server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error) => {
  if (error) { console.error(error.message); process.exit(1); }
  console.log('fake model-runner serving on ' + address);
});
`;

/** Writes the fake interpreter into `dir` and describes it as findPython would. */
export function fakePython(dir: string): PythonInterpreter {
  const runnerSource = join(dir, 'fake-model-runner');
  writeFileSync(runnerSource, fakeModelRunner());
  const executable = join(dir, 'fake-python3');
  writeFileSync(
    executable,
    `#!/bin/sh
if [ "$1 $2" = "-m venv" ]; then
  mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && echo "home = fake" > "$3/pyvenv.cfg"
  exit 0
fi
if [ "$1 $2 $3" = "-m pip install" ]; then
  if grep -q does-not-exist "$7"; then
    echo "ERROR: No matching distribution found for does-not-exist" >&2
    exit 1
  fi
  here=$(cd "$(dirname "$0")/.." && pwd)
  cp "${runnerSource}" "$here/bin/model-runner" && chmod +x "$here/bin/model-runner"
  echo "Successfully installed fake"
  exit 0
fi
exit 2
`,
  );
  chmodSync(executable, 0o755);
  return { executable, realPath: executable, version: '3.13.0', major: 3, minor: 13, patch: 0 };
}
