// Both gRPC channels (our http2 one and the grpc-js one) against a bare node:http2 server that answers
// exactly as each test scripts it, including the ways a server can get the gRPC framing wrong: a
// model connection must see the same GrpcErrors whichever transport it uses. (Interoperability
// with real gRPC servers, grpc-js and Python's model-runner, is covered by test/model-runner*.test.ts.)
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http2 from 'node:http2';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CallDroppedError,
  frame,
  type GrpcChannel,
  GrpcError,
  GrpcStatus,
  Http2Channel,
  type ModelTransport,
  modelTransports,
  unframe,
} from './grpc-channel.js';
import { GrpcJsChannel } from './grpc-js-channel.js';

type Handler = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, body: Buffer) => void;

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function startServer(handler: Handler, port = 0): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream, headers) => {
    // A stream a test resets or the client cancels emits an error here; that is the point of those tests.
    stream.on('error', () => {});
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => handler(stream, headers, Buffer.concat(chunks)));
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const close = async () => {
    for (const session of sessions) session.destroy();
    await new Promise<void>((done) => server.close(() => done()));
  };
  cleanup.push(close);
  return { port: (server.address() as AddressInfo).port, close };
}

/**
 * A bare HTTP/2 server in a process of its own that exits (process.exit, as a crashing model does)
 * once a call arrives: before answering anything, or after sending the response headers.
 */
async function startExitingServer(
  when: 'before-headers' | 'after-headers',
): Promise<{ port: number; exited: Promise<unknown> }> {
  const script = `
    const http2 = require('node:http2');
    const server = http2.createServer();
    server.on('stream', (stream) => {
      stream.on('error', () => {});
      stream.on('data', () => {});
      if (${JSON.stringify(when)} === 'after-headers') stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      setTimeout(() => process.exit(3), 20);
    });
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  cleanup.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const [line] = (await once(child.stdout, 'data')) as [Buffer];
  return { port: Number(line.toString().trim()), exited };
}

/** A well-formed gRPC answer: the message framed, then grpc-status 0 in the trailers. */
function answer(stream: http2.ServerHttp2Stream, message: Buffer): void {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(frame(message));
}

let transport: ModelTransport = 'http2';

function channelTo(port: number, maxMessageBytes = 1024 * 1024): GrpcChannel {
  const options = { maxMessageBytes, initialReconnectBackoffMs: 20, maxReconnectBackoffMs: 50 };
  const channel =
    transport === 'grpc-js'
      ? new GrpcJsChannel('127.0.0.1', port, options)
      : new Http2Channel('127.0.0.1', port, options);
  cleanup.push(() => channel.close());
  return channel;
}

const soon = () => Date.now() + 2_000;
const call = (channel: GrpcChannel, request = Buffer.from('ping'), deadline = soon(), waitForReady = true) =>
  channel.unary('/pkg.Service/Method', request, { deadline, waitForReady });

async function failure(promise: Promise<unknown>): Promise<GrpcError> {
  const error = await promise.then(
    () => {
      throw new Error('the call succeeded');
    },
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(GrpcError);
  return error as GrpcError;
}

describe.each(modelTransports)('the %s channel', (name) => {
  beforeEach(() => {
    transport = name;
  });

  it('sends a framed request with the gRPC headers and returns the unframed answer', async () => {
    let seen: { headers: http2.IncomingHttpHeaders; body: Buffer } | undefined;
    const { port } = await startServer((stream, headers, body) => {
      seen = { headers, body };
      answer(stream, Buffer.from(`echo:${unframe(body).toString()}`));
    });
    const channel = channelTo(port);
    expect((await call(channel, Buffer.from('hello'))).toString()).toBe('echo:hello');
    expect(seen?.headers).toMatchObject({
      ':method': 'POST',
      ':path': '/pkg.Service/Method',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    expect(seen?.headers['grpc-timeout']).toMatch(/^\d{1,8}m$/);
    expect([...(seen?.body.subarray(0, 5) ?? [])]).toEqual([0, 0, 0, 0, 5]);
    // Many calls share one connection and may run at once.
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => call(channel, Buffer.from(String(i)))));
    expect(answers.map((bytes) => bytes.toString())).toEqual(Array.from({ length: 20 }, (_, i) => `echo:${i}`));
  });

  it('answers that arrive in several DATA frames are put back together', async () => {
    const big = Buffer.alloc(300_000, 7);
    const { port } = await startServer((stream) => answer(stream, big));
    expect((await call(channelTo(port))).equals(big)).toBe(true);
  });

  it('turns grpc-status and its percent-encoded message into a GrpcError, from trailers or headers alone', async () => {
    const { port } = await startServer((stream, headers) => {
      if (headers[':path'] === '/trailers') {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '8', 'grpc-message': 'Server%20busy' }));
        stream.end();
      } else {
        // Trailers-Only: the status rides on the only HEADERS frame.
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '9', 'grpc-message': 'caf%C3%A9' },
          { endStream: true },
        );
      }
    });
    const channel = channelTo(port);
    const busy = await failure(channel.unary('/trailers', Buffer.from('x'), { deadline: soon(), waitForReady: true }));
    expect(busy).toMatchObject({ code: GrpcStatus.RESOURCE_EXHAUSTED, details: 'Server busy' });
    expect(busy.message).toBe('RESOURCE_EXHAUSTED: Server busy');
    const only = await failure(channel.unary('/headers', Buffer.from('x'), { deadline: soon(), waitForReady: true }));
    expect(only).toMatchObject({ code: GrpcStatus.FAILED_PRECONDITION, details: 'café' });
  });

  it('maps an HTTP error without grpc-status as the gRPC spec says', async () => {
    const { port } = await startServer((stream) => stream.respond({ ':status': 404 }, { endStream: true }));
    expect(await failure(call(channelTo(port)))).toMatchObject({ code: GrpcStatus.UNIMPLEMENTED });
  });

  it('refuses malformed answers: compressed, a frame length that disagrees, no message at all', async () => {
    const { port } = await startServer((stream, headers) => {
      const message = frame(Buffer.from('abc'));
      if (headers[':path'] === '/compressed') message[0] = 1;
      if (headers[':path'] === '/short') message.writeUInt32BE(10, 1);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(headers[':path'] === '/empty' ? Buffer.alloc(0) : message);
    });
    const channel = channelTo(port);
    for (const [path, reason] of [
      ['/compressed', /compressed/],
      ['/short', /says 10 bytes but 3 arrived/],
      ['/empty', /no message/],
    ] as const) {
      const error = await failure(channel.unary(path, Buffer.from('x'), { deadline: soon(), waitForReady: true }));
      // grpc-js words these its own way (and calls a missing message UNIMPLEMENTED); a model
      // connection only needs the call to fail, which it then counts as a TIMEOUT.
      if (transport === 'http2') {
        expect(error.code).toBe(GrpcStatus.INTERNAL);
        expect(error.details).toMatch(reason);
      }
    }
  });

  it('ends a call at its deadline with DEADLINE_EXCEEDED and cancels the stream on the server', async () => {
    let cancelled: Promise<unknown> | undefined;
    const { port } = await startServer((stream) => {
      cancelled = once(stream, 'close');
    });
    const started = Date.now();
    const error = await failure(call(channelTo(port), Buffer.from('x'), Date.now() + 150));
    expect(error.code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    await cancelled;
  });

  it('refuses answers and requests larger than the limit with RESOURCE_EXHAUSTED', async () => {
    const { port } = await startServer((stream) => answer(stream, Buffer.alloc(10_000)));
    const channel = channelTo(port, 4_096);
    const tooLarge = await failure(call(channel));
    expect(tooLarge).toMatchObject({ code: GrpcStatus.RESOURCE_EXHAUSTED });
    expect(tooLarge.details).toMatch(/larger than .*4096/);
    const tooBig = await failure(call(channel, Buffer.alloc(5_000)));
    expect(tooBig).toMatchObject({ code: GrpcStatus.RESOURCE_EXHAUSTED });
    expect(tooBig.details).toMatch(/size|larger/);
  });

  it('maps a stream the server resets as the gRPC spec says', async () => {
    const { port } = await startServer((stream, headers) => {
      const code = headers[':path'] === '/calm' ? 'NGHTTP2_ENHANCE_YOUR_CALM' : 'NGHTTP2_INTERNAL_ERROR';
      stream.close(http2.constants[code]);
    });
    const channel = channelTo(port);
    expect(await failure(call(channel))).toMatchObject({ code: GrpcStatus.INTERNAL });
    const calm = channel.unary('/calm', Buffer.from('x'), { deadline: soon(), waitForReady: true });
    expect(await failure(calm)).toMatchObject({ code: GrpcStatus.RESOURCE_EXHAUSTED });
  });

  it('waits for a server that is not up yet when asked to, and fails at once when not', async () => {
    const probe = await startServer(() => {});
    const port = probe.port;
    await probe.close();
    const channel = channelTo(port);
    const started = Date.now();
    const unavailable = await failure(call(channel, Buffer.from('x'), Date.now() + 5_000, false));
    expect(unavailable.code).toBe(GrpcStatus.UNAVAILABLE);
    expect(Date.now() - started).toBeLessThan(5_000);

    const waiting = call(channel, Buffer.from('x'), Date.now() + 5_000, true);
    await sleep(200);
    await startServer((stream) => answer(stream, Buffer.from('late but here')), port);
    expect((await waiting).toString()).toBe('late but here');
  });

  it('gives up waiting for a server at the deadline', async () => {
    const probe = await startServer(() => {});
    await probe.close();
    const error = await failure(call(channelTo(probe.port), Buffer.from('x'), Date.now() + 200, true));
    expect(error.code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
  });

  it('reconnects after the server drops the connection', async () => {
    const first = await startServer((stream) => answer(stream, Buffer.from('one')));
    const channel = channelTo(first.port);
    expect((await call(channel)).toString()).toBe('one');
    await first.close();
    await startServer((stream) => answer(stream, Buffer.from('two')), first.port);
    expect((await call(channel)).toString()).toBe('two');
  });

  it('sends a refused stream again, but does not hammer a server that refuses everything', async () => {
    let connections = 0;
    let streams = 0;
    const counting = http2.createServer();
    cleanup.push(() => new Promise<void>((done) => counting.close(() => done())));
    // A proxy would hide the refusal; count connections on a server that refuses everything instead.
    counting.on('session', (session) => {
      connections++;
      session.on('error', () => {});
    });
    counting.on('stream', (stream) => {
      streams++;
      stream.on('error', () => {});
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    });
    counting.listen(0, '127.0.0.1');
    await once(counting, 'listening');
    const refused = await failure(call(channelTo((counting.address() as AddressInfo).port)));
    expect(refused.code).toBe(GrpcStatus.UNAVAILABLE);
    // Ours retries once on a new connection (the old one may be a restarted process's); grpc-js on the same one.
    expect(streams).toBe(2);
    expect(connections).toBe(transport === 'http2' ? 2 : 1);
  });

  it('a server process that exits during a call fails the call at once as dropped, answered or not', async () => {
    for (const when of ['before-headers', 'after-headers'] as const) {
      const server = await startExitingServer(when);
      const channel = channelTo(server.port);
      // A deadline far away: the failure must come from the exit, not from waiting the deadline out.
      const error = await failure(call(channel, Buffer.from('x'), Date.now() + 120_000));
      expect(error).toBeInstanceOf(CallDroppedError);
      expect(error.code).toBe(GrpcStatus.UNAVAILABLE);
      await server.exited;
    }
  });

  it('a connection the server closes, resets or shuts down (GOAWAY) during a call fails it as dropped', async () => {
    const endings: Record<string, (stream: http2.ServerHttp2Stream) => void> = {
      '/destroy': (stream) => stream.session?.destroy(),
      '/reset-socket': (stream) => (stream.session?.socket as Socket | undefined)?.resetAndDestroy(),
      '/goaway': (stream) => {
        const session = stream.session;
        session?.goaway(http2.constants.NGHTTP2_INTERNAL_ERROR);
        setTimeout(() => session?.destroy(), 20);
      },
      '/stream-reset': (stream) => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR),
    };
    const { port } = await startServer((stream, headers) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      endings[String(headers[':path'])]?.(stream);
    });
    for (const path of Object.keys(endings)) {
      const channel = channelTo(port);
      const error = await failure(
        channel.unary(path, Buffer.from('x'), { deadline: Date.now() + 120_000, waitForReady: true }),
      );
      expect(error, path).toBeInstanceOf(CallDroppedError);
    }
  });

  it('a call whose signal aborts ends at once with CANCELLED and is cancelled on the server', async () => {
    let cancelled: Promise<unknown> | undefined;
    const { port } = await startServer((stream) => {
      cancelled = once(stream, 'close');
    });
    const channel = channelTo(port);
    await channel.waitForReady(soon());
    const stop = new AbortController();
    const pending = failure(
      channel.unary('/pkg.Service/Method', Buffer.from('x'), {
        deadline: Date.now() + 120_000,
        waitForReady: true,
        signal: stop.signal,
      }),
    );
    await sleep(50);
    stop.abort(new Error('the activity was cancelled'));
    const error = await pending;
    expect(error.code).toBe(GrpcStatus.CANCELLED);
    expect(error).not.toBeInstanceOf(CallDroppedError);
    expect(error.details).toContain('the activity was cancelled');
    await cancelled;
    // Already aborted: refused without a request.
    const again = await failure(
      channel.unary('/pkg.Service/Method', Buffer.from('x'), {
        deadline: soon(),
        waitForReady: true,
        signal: stop.signal,
      }),
    );
    expect(again.code).toBe(GrpcStatus.CANCELLED);
  });

  it('close() cancels calls in flight and refuses new ones', async () => {
    const { port } = await startServer(() => {});
    const channel = channelTo(port);
    await channel.waitForReady(soon());
    const pending = failure(call(channel));
    await sleep(50);
    channel.close();
    expect((await pending).code).toBe(GrpcStatus.CANCELLED);
    expect((await failure(call(channel))).code).toBe(GrpcStatus.CANCELLED);
    channel.close();
  });
});

// grpc-js has keepalive settings of its own; this is our channel's.
describe('the http2 channel keepalive', () => {
  it('pings an open connection and drops it when the peer stops answering', async () => {
    const { port } = await startServer((stream) => answer(stream, Buffer.from('pong')));
    // A proxy whose first connection goes silent once told to: the peer vanishes without a word.
    let connections = 0;
    let silenceFirst = false;
    const sockets: Socket[] = [];
    const proxy = createServer((downstream) => {
      const first = ++connections === 1;
      const upstream = connect(port, '127.0.0.1');
      sockets.push(downstream, upstream);
      downstream.on('error', () => {});
      upstream.on('error', () => {});
      downstream.pipe(upstream);
      upstream.on('data', (chunk: Buffer) => {
        if (!(first && silenceFirst)) downstream.write(chunk);
      });
    });
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    cleanup.push(() => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((done) => proxy.close(() => done()));
    });
    const channel = new Http2Channel('127.0.0.1', (proxy.address() as AddressInfo).port, {
      maxMessageBytes: 1024,
      keepaliveMs: 50,
      keepaliveTimeoutMs: 150,
    });
    cleanup.push(() => channel.close());
    expect((await call(channel)).toString()).toBe('pong');
    // Answered PINGs keep the connection.
    await sleep(300);
    expect((await call(channel)).toString()).toBe('pong');
    expect(connections).toBe(1);
    // An unanswered PING drops it, so the next call connects afresh instead of waiting out its deadline.
    silenceFirst = true;
    await sleep(500);
    expect((await call(channel)).toString()).toBe('pong');
    expect(connections).toBe(2);
  });
});
