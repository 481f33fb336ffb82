// Child process of bench/fan-out.ts: N light model endpoints (one gRPC server port each) that answer
// Setup, Health/Check and a fixed 288-step JSON prediction, serialised once. Runs apart from the
// client so the two do not share an event loop; reports its own compute so the bench can subtract it.
import { Server, ServerCredentials, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import { callMethod, dynamicSubclassService, healthService, ServingStatus } from '../../lib/model-runner/proto.js';
import { VariantType } from '../../lib/model-runner/variant.js';
import { predictionJson } from './payload.js';

const answer = callMethod.responseSerialize({
  status: { code: 'SUCCESS', message: '' },
  methodResponse: { type: VariantType.JSON, value: Buffer.from(predictionJson()) },
});

let handlerNs = 0n;
let calls = 0;
const passThrough = (bytes: Buffer) => bytes;

// The fixed answer goes out as the bytes serialised above; requests are not even decoded.
const lightCall = {
  ...callMethod,
  requestDeserialize: passThrough,
  responseSerialize: passThrough,
} as unknown as MethodDefinition<Buffer, Buffer>;

const server = new Server();
server.addService({ ...dynamicSubclassService, Call: lightCall }, {
  Setup: (_call: unknown, callback: (error: null, response: object) => void) =>
    callback(null, { status: { code: 'SUCCESS', message: '' } }),
  Call: (_call: unknown, callback: (error: null, response: Buffer) => void) => {
    // The handler's time includes handing the answer to gRPC (framing it for the socket happens there).
    const started = process.hrtime.bigint();
    calls++;
    callback(null, answer);
    handlerNs += process.hrtime.bigint() - started;
  },
  Rest: (_call: unknown, callback: (error: null, response: object) => void) =>
    callback(null, { status: { code: 'SUCCESS', message: '' } }),
} as UntypedServiceImplementation);
server.addService(healthService, {
  Check: (_call: unknown, callback: (error: null, response: object) => void) =>
    callback(null, { status: ServingStatus.SERVING }),
} as UntypedServiceImplementation);

async function listen(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    ports.push(
      await new Promise<number>((resolve, reject) =>
        server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) =>
          error ? reject(error) : resolve(port),
        ),
      ),
    );
  }
  return ports;
}

let cpuMark = process.cpuUsage();

process.on('message', async (message: { command: string; count?: number }) => {
  if (message.command === 'listen') {
    const ports = await listen(message.count ?? 1);
    process.send?.({ ports, answerBytes: answer.length });
  } else if (message.command === 'reset') {
    handlerNs = 0n;
    calls = 0;
    cpuMark = process.cpuUsage();
    process.send?.({ ok: true });
  } else if (message.command === 'stats') {
    const cpu = process.cpuUsage(cpuMark);
    process.send?.({ calls, handlerMs: Number(handlerNs) / 1e6, cpuMs: (cpu.user + cpu.system) / 1000 });
  } else if (message.command === 'exit') {
    server.forceShutdown();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
