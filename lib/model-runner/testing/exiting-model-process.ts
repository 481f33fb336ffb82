// A fake model server in a process of its own that exits in the middle of a call, as a model whose
// code crashes the process does: for tests of what the client makes of it. Run as a script it serves
// on a free port, prints the port, answers `predict` with "ok" and exits (code 3) 50 ms into any
// `crash` call, before answering it.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { startFakeModelServer } from './fake-model-server.js';

export interface ExitingModelProcess {
  readonly port: number;
  readonly child: ChildProcess;
  /** Resolves with the exit code once the process is gone. */
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Starts the script below in a child Node process (tsx, as the project runs) and waits for its port. */
export async function startExitingModelProcess(): Promise<ExitingModelProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const [line] = (await Promise.race([
    once(child.stdout as NonNullable<ChildProcess['stdout']>, 'data'),
    exited.then((code) => {
      throw new Error(`the exiting model process ended before serving (code ${code})`);
    }),
  ])) as [Buffer];
  return {
    port: Number(line.toString().trim()),
    child,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await startFakeModelServer({
    behaviour: {
      call: ({ method }) => {
        if (method !== 'crash') return { value: 'ok' };
        setTimeout(() => process.exit(3), 50);
        return new Promise(() => {});
      },
    },
  });
  process.stdout.write(`${server.port}\n`);
}
