import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { allSearchAttributes } from '../../lib/temporal/index.js';
import { temporalCli } from './tools.js';

let runtimeInstalled = false;

/**
 * A real Temporal dev server for one test file, from the CLI that `npm test` installs into .venv
 * (the SDK's own download cannot work on machines without internet). SDK logs are kept to warnings.
 */
export function createTemporalTestEnv(): Promise<TestWorkflowEnvironment> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCli() },
      ip: '127.0.0.1',
      searchAttributes: allSearchAttributes,
      log: { format: 'pretty', level: 'error' },
    },
  });
}
