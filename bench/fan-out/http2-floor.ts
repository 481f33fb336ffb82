// The floor under any Node gRPC client here: the same unary Call sent over bare node:http2 sessions
// (no gRPC library, no decoding, no deadlines or retries), one session per endpoint.
import { once } from 'node:events';
import http2 from 'node:http2';
import { frame } from '../../lib/model-runner/grpc-channel.js';
import { callMethod } from '../../lib/model-runner/proto.js';

function unary(session: http2.ClientHttp2Session, framed: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ':method': 'POST',
      ':path': callMethod.path,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    let bytes = 0;
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    stream.on('end', () => resolve(bytes));
    stream.on('error', reject);
    stream.end(framed);
  });
}

/** Times `rounds` rounds of one call to every port: wall time and this process's CPU time, in ms. */
export async function http2FloorRounds(
  ports: number[],
  request: Buffer,
  rounds: number,
): Promise<{ wallMs: number[]; cpuMs: number[] }> {
  const framed = frame(request);
  const sessions = ports.map((port) => http2.connect(`http://127.0.0.1:${port}`));
  try {
    await Promise.all(sessions.map((session) => once(session, 'connect')));
    await Promise.all(sessions.map((session) => unary(session, framed)));
    const wallMs: number[] = [];
    const cpuMs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const started = performance.now();
      const cpu = process.cpuUsage();
      await Promise.all(sessions.map((session) => unary(session, framed)));
      wallMs.push(performance.now() - started);
      const used = process.cpuUsage(cpu);
      cpuMs.push((used.user + used.system) / 1000);
    }
    return { wallMs, cpuMs };
  } finally {
    for (const session of sessions) session.destroy();
  }
}
