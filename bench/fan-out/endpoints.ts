// Child process of bench/fan-out.ts: N light model endpoints (one port each) that answer Setup,
// Health/Check and a fixed 288-step JSON prediction. Light means they do as little as a gRPC server
// can: each answer is serialised and framed once, and a call is answered straight on node:http2
// without a gRPC library (a grpc-js server cost ~0.16 ms of CPU per call, which on two shared cores
// would be charged to the client's round). Runs apart from the client so the two do not share an
// event loop; reports its own compute so the bench can subtract it. With `tls` (bench/secure-fan-out.ts)
// they play secure model nodes: mutual TLS, and each answer starts with that node's identity headers.
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { frame } from '../../lib/model-runner/grpc-channel.js';
import { callMethod, healthCheckMethod, ServingStatus, setupMethod } from '../../lib/model-runner/proto.js';
import { VariantType } from '../../lib/model-runner/variant.js';
import { predictionJson } from './payload.js';

const answers = new Map<string, Buffer>([
  [
    callMethod.path,
    frame(
      callMethod.responseSerialize({
        status: { code: 'SUCCESS', message: '' },
        methodResponse: { type: VariantType.JSON, value: Buffer.from(predictionJson()) },
      }),
    ),
  ],
  [setupMethod.path, frame(setupMethod.responseSerialize({ status: { code: 'SUCCESS', message: '' } }))],
  [healthCheckMethod.path, frame(healthCheckMethod.responseSerialize({ status: ServingStatus.SERVING }))],
]);
const callAnswerBytes = answers.get(callMethod.path)?.length ?? 0;

let handlerNs = 0n;
let calls = 0;
const servers: Array<http2.Http2Server | http2.Http2SecureServer> = [];
const OK_TRAILERS = { 'grpc-status': '0' };
const HEADERS = { ':status': 200, 'content-type': 'application/grpc' };

/** Secure nodes: certificate, key, the CA client certificates must chain to, identity headers per node. */
interface SecureEndpoints {
  cert: string;
  key: string;
  ca: string;
  identities: Array<Record<string, string>>;
}

const answerWith =
  (identity: Record<string, string>) =>
  (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void =>
    onStream(stream, headers, identity);

function onStream(
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  identity: Record<string, string>,
): void {
  stream.on('error', () => {});
  const path = String(headers[':path']);
  // The request itself is not even decoded; the answer goes once the request has fully arrived.
  stream.resume();
  stream.once('end', () => {
    const started = process.hrtime.bigint();
    const answer = answers.get(path);
    if (!answer) {
      stream.respond({ ...HEADERS, 'grpc-status': '12', 'grpc-message': 'unknown method' }, { endStream: true });
      return;
    }
    if (path === callMethod.path) calls++;
    stream.respond({ ...HEADERS, ...identity }, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers(OK_TRAILERS));
    stream.end(answer);
    if (path === callMethod.path) handlerNs += process.hrtime.bigint() - started;
  });
}

async function listen(count: number, tls?: SecureEndpoints): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const settings = { initialWindowSize: 1024 * 1024 };
    const server = tls
      ? http2.createSecureServer({ settings, cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true })
      : http2.createServer({ settings });
    server.on('stream', answerWith(tls?.identities[i] ?? {}));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    ports.push((server.address() as AddressInfo).port);
  }
  return ports;
}

let cpuMark = process.cpuUsage();

process.on('message', async (message: { command: string; count?: number; tls?: SecureEndpoints }) => {
  if (message.command === 'listen') {
    const ports = await listen(message.count ?? 1, message.tls);
    process.send?.({ ports, answerBytes: callAnswerBytes });
  } else if (message.command === 'reset') {
    handlerNs = 0n;
    calls = 0;
    cpuMark = process.cpuUsage();
    process.send?.({ ok: true });
  } else if (message.command === 'stats') {
    const cpu = process.cpuUsage(cpuMark);
    process.send?.({ calls, handlerMs: Number(handlerNs) / 1e6, cpuMs: (cpu.user + cpu.system) / 1000 });
  } else if (message.command === 'exit') {
    for (const server of servers) server.close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
