// Child process of bench/predict-cycle.ts and bench/cycle-latency.ts: N light model endpoints
// (lib/model-runner's fake model server, one gRPC port each) that answer `tick` with None and
// `predict` with one fixed density answer; the first `silent` of them never answer `predict` (hostile
// models). Apart from the coordinator's process so the two do not share an event loop.
import { type FakeModelServer, startFakeModelServer } from '../../lib/model-runner/testing/fake-model-server.js';
import { VariantType } from '../../lib/model-runner/variant.js';
import { densityAnswerJson } from './payload.js';

export type EndpointsRequest =
  /** `steps`: densities in the predict answer (default 288, a 24 h Condor prediction). */
  | { command: 'listen'; count: number; silent?: number; steps?: number }
  /** From now on `tick` fails with MODEL_FAILED and this message (null: answers None again). */
  | { command: 'fail-ticks'; message: string | null }
  | { command: 'stats' }
  | { command: 'exit' };
export type EndpointsReply =
  | { ports: number[]; answerBytes: number }
  | { ticks: number; predicts: number }
  | { ok: true };

let answer = Buffer.from(densityAnswerJson());
const servers: FakeModelServer[] = [];
let tickFailure: string | null = null;
const never = new Promise<never>(() => {});

async function listen(count: number, silent: number): Promise<number[]> {
  const started: FakeModelServer[] = [];
  for (let i = 0; i < count; i++) {
    const hostile = i < silent;
    started.push(
      await startFakeModelServer({
        behaviour: {
          call: (request) => {
            if (request.method === 'predict') {
              return hostile ? never : { variant: { type: VariantType.JSON, value: answer } };
            }
            return tickFailure === null ? { value: null } : { status: 'MODEL_FAILED', message: tickFailure };
          },
        },
      }),
    );
  }
  servers.push(...started);
  return started.map((server) => server.port);
}

function stats(): { ticks: number; predicts: number } {
  let ticks = 0;
  let predicts = 0;
  for (const server of servers) {
    for (const call of server.calls) {
      if (call.method === 'tick') ticks++;
      else if (call.method === 'predict') predicts++;
    }
    // Keeps memory flat over many rounds: the counts are all the bench needs.
    server.calls.length = 0;
  }
  return { ticks, predicts };
}

process.on('message', async (message: EndpointsRequest) => {
  if (message.command === 'listen') {
    if (message.steps !== undefined) answer = Buffer.from(densityAnswerJson(message.steps));
    const ports = await listen(message.count, message.silent ?? 0);
    process.send?.({ ports, answerBytes: answer.length } satisfies EndpointsReply);
  } else if (message.command === 'fail-ticks') {
    tickFailure = message.message;
    process.send?.({ ok: true } satisfies EndpointsReply);
  } else if (message.command === 'stats') {
    process.send?.(stats() satisfies EndpointsReply);
  } else {
    await Promise.all(servers.map((server) => server.stop()));
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
