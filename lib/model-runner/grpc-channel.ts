// The gRPC channel a model connection uses for its unary calls (Setup, Call, health Check), and the
// default one: unary gRPC over node:http2 and nothing else. grpc-js (grpc-js-channel.ts, the other
// transport) spends more CPU per call in its general layers (resolvers, load balancing, retries,
// filters); a fan-out to 1,000 models pays that 1,000 times per round, so the default speaks the
// gRPC-over-HTTP/2 framing itself (how much more: bench/README.md#fan-out).
import http2 from 'node:http2';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChannelSecurity } from './security/channel-security.js';

/** gRPC status codes (grpc/doc/statuscodes.md). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

const statusNames = new Map<number, string>(Object.entries(GrpcStatus).map(([name, code]) => [code, name]));

export class GrpcError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`${statusNames.get(code) ?? `status ${code}`}: ${details}`);
    this.name = 'GrpcError';
  }
}

/**
 * The server's side ended a call it had accepted, without an answer: the connection closed, was
 * reset or went away (GOAWAY) while the call was open, or the stream was reset or ended without a
 * gRPC status. For a model this means its process exited or broke during the call: a failure known
 * at once, not a timeout to wait out. Never used for a stream the server refused unprocessed.
 */
export class CallDroppedError extends GrpcError {
  override readonly name = 'CallDroppedError';
}

export interface GrpcChannelOptions {
  /** Largest message sent or received; a larger answer fails the call with RESOURCE_EXHAUSTED. */
  maxMessageBytes: number;
  /** Largest answer received when smaller than `maxMessageBytes` (a game's answer size). */
  maxAnswerBytes?: number;
  /** First and largest wait between connection attempts while a call waits for the channel. */
  initialReconnectBackoffMs?: number;
  maxReconnectBackoffMs?: number;
  /**
   * Period of HTTP/2 PINGs on an open connection (default 300 s, what gRPC servers accept without
   * calls in flight); a connection whose PING is not answered within `keepaliveTimeoutMs` (20 s) is
   * dropped, so a peer that vanished silently costs no call. 0: no pings.
   */
  keepaliveMs?: number;
  keepaliveTimeoutMs?: number;
  /** Secure or gateway mode (security/): TLS, headers added to calls, answers checked. None: plain h2c. */
  security?: ChannelSecurity;
}

export interface UnaryOptions {
  /** Epoch ms; the call fails with DEADLINE_EXCEEDED when it passes. */
  deadline: number;
  /**
   * Wait (until the deadline) for the connection if it is down, as gRPC's wait-for-ready does;
   * otherwise fail at once with UNAVAILABLE.
   */
  waitForReady: boolean;
  /** Aborting it ends the call at once with CANCELLED (and cancels the stream on the server). */
  signal?: AbortSignal;
}

// The HTTP status of a response without grpc-status, as the gRPC spec maps it (http-grpc-status-mapping.md).
const httpStatusToGrpc: Record<number, number> = {
  400: GrpcStatus.INTERNAL,
  401: GrpcStatus.UNAUTHENTICATED,
  403: GrpcStatus.PERMISSION_DENIED,
  404: GrpcStatus.UNIMPLEMENTED,
  429: GrpcStatus.UNAVAILABLE,
  502: GrpcStatus.UNAVAILABLE,
  503: GrpcStatus.UNAVAILABLE,
  504: GrpcStatus.UNAVAILABLE,
};

// Answers of a few MB should not stall on 64 KiB flow-control windows (HTTP/2's default).
const STREAM_WINDOW_BYTES = 4 * 1024 * 1024;
const CONNECTION_WINDOW_BYTES = 16 * 1024 * 1024;
// Larger DATA frames let a server send an answer in fewer pieces (fewer chunks to join here).
const MAX_FRAME_BYTES = 1024 * 1024;

/** Unary gRPC to one server. Failures are GrpcErrors, whichever transport is underneath. */
export interface GrpcChannel {
  /** Resolves once a connection is up, trying again with backoff until the deadline. */
  waitForReady(deadline: number): Promise<void>;
  /** One unary call: `request` is the serialised message; resolves to the serialised answer. */
  unary(path: string, request: Buffer, options: UnaryOptions): Promise<Buffer>;
  /** Ends the connection; calls in flight fail with CANCELLED. Idempotent. */
  close(): void;
}

/** `http2`: our own channel (the default); `grpc-js`: the @grpc/grpc-js library. */
export type ModelTransport = 'http2' | 'grpc-js';
export const modelTransports: readonly ModelTransport[] = ['http2', 'grpc-js'];

/** One HTTP/2 connection to one model process; reconnects on demand after it drops. */
export class Http2Channel implements GrpcChannel {
  private session: http2.ClientHttp2Session | null = null;
  private connecting: Promise<http2.ClientHttp2Session> | null = null;
  /** Calls in flight, each with the way to end it (close() cancels them). */
  private readonly pending = new Map<http2.ClientHttp2Stream, (error: GrpcError) => void>();
  private readonly stop = new AbortController();
  private closed = false;
  private readonly authority: string;

  constructor(
    host: string,
    port: number,
    private readonly options: GrpcChannelOptions,
  ) {
    const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    this.authority = `${bracketed}:${port}`;
  }

  async waitForReady(deadline: number): Promise<void> {
    await this.readySession(deadline);
  }

  async unary(path: string, request: Buffer, { deadline, waitForReady, signal }: UnaryOptions): Promise<Buffer> {
    if (request.length > this.options.maxMessageBytes) {
      throw new GrpcError(
        GrpcStatus.RESOURCE_EXHAUSTED,
        `the request (${request.length} bytes) is larger than the limit (${this.options.maxMessageBytes})`,
      );
    }
    for (let attempt = 1; ; attempt++) {
      let session: http2.ClientHttp2Session;
      if (this.closed) throw new GrpcError(GrpcStatus.CANCELLED, 'the channel was closed');
      if (signal?.aborted) throw cancelledBy(signal);
      if (this.session && !this.session.closed && !this.session.destroyed) session = this.session;
      else if (waitForReady) session = await this.readySession(deadline, signal);
      else {
        try {
          session = await this.connectOnce(deadline);
        } catch (error) {
          throw new GrpcError(GrpcStatus.UNAVAILABLE, (error as Error).message);
        }
      }
      try {
        return await this.send(session, path, request, deadline, signal);
      } catch (error) {
        // A stream the server refused was never processed, so sending it again on a fresh
        // connection is safe (gRPC's transparent retry): typically the model process restarted at
        // the same address and this connection is the old one's, not yet seen to be gone. Once only:
        // a server that refuses every stream must not be hammered with connections until the deadline.
        if (!(error instanceof NotProcessed) || !waitForReady || this.closed || attempt > 1) throw error;
        if (this.session === session) this.session = null;
        session.destroy();
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stop.abort();
    if (this.pending.size > 0) {
      const cancelled = new GrpcError(GrpcStatus.CANCELLED, 'the channel was closed');
      for (const cancel of [...this.pending.values()]) cancel(cancelled);
    }
    this.session?.destroy();
    this.session = null;
  }

  private async readySession(deadline: number, signal?: AbortSignal): Promise<http2.ClientHttp2Session> {
    let backoff = this.options.initialReconnectBackoffMs ?? 100;
    const maxBackoff = this.options.maxReconnectBackoffMs ?? 1000;
    for (;;) {
      if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
      try {
        return await this.connectOnce(deadline);
      } catch (error) {
        const message = (error as Error).message;
        if (this.closed) throw new GrpcError(GrpcStatus.CANCELLED, 'the channel was closed');
        // A refused certificate stays refused: no point in trying again until the deadline.
        if (error instanceof GrpcError && error.code === GrpcStatus.UNAUTHENTICATED) throw error;
        if (Date.now() + backoff >= deadline)
          throw new GrpcError(GrpcStatus.DEADLINE_EXCEEDED, `not connected: ${message}`);
        try {
          await sleep(backoff, undefined, {
            signal: signal ? AbortSignal.any([this.stop.signal, signal]) : this.stop.signal,
          });
        } catch {
          if (signal?.aborted) throw cancelledBy(signal);
          throw new GrpcError(GrpcStatus.CANCELLED, 'the channel was closed');
        }
        backoff = Math.min(backoff * 2, maxBackoff);
      }
    }
  }

  /** One connection attempt; concurrent callers share it. */
  private connectOnce(deadline: number): Promise<http2.ClientHttp2Session> {
    if (this.closed) return Promise.reject(new GrpcError(GrpcStatus.CANCELLED, 'the channel was closed'));
    this.connecting ??= new Promise<http2.ClientHttp2Session>((resolve, reject) => {
      const { security } = this.options;
      const session = http2.connect(`${security ? 'https' : 'http'}://${this.authority}`, {
        settings: { initialWindowSize: STREAM_WINDOW_BYTES, maxFrameSize: MAX_FRAME_BYTES, enablePush: false },
        maxSessionMemory: Math.max(10, Math.ceil((this.options.maxMessageBytes * 2) / (1024 * 1024))),
        ...security?.tls,
      });
      const timer = setTimeout(
        () => fail(new Error(`no connection within ${Math.max(0, deadline - Date.now())} ms`)),
        Math.max(0, deadline - Date.now()),
      );
      const fail = (error: Error) => {
        clearTimeout(timer);
        session.destroy();
        this.connecting = null;
        reject(security ? security.connectError(error) : error);
      };
      session.once('error', fail);
      session.once('connect', () => {
        clearTimeout(timer);
        session.off('error', fail);
        this.connecting = null;
        if (this.closed) {
          session.destroy();
          reject(new GrpcError(GrpcStatus.CANCELLED, 'the channel was closed'));
          return;
        }
        session.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
        // Errors after connecting reach each stream; the session just drops so the next call reconnects.
        session.on('error', () => session.destroy());
        session.once('close', () => {
          if (this.session === session) this.session = null;
        });
        session.once('goaway', () => {
          wentAway.add(session);
          if (this.session === session) this.session = null;
        });
        this.keepAlive(session);
        // An idle connection must not keep the process alive.
        session.unref();
        this.session = session;
        resolve(session);
      });
    });
    return this.connecting;
  }

  private keepAlive(session: http2.ClientHttp2Session): void {
    const period = this.options.keepaliveMs ?? 300_000;
    if (period <= 0) return;
    const timeoutMs = this.options.keepaliveTimeoutMs ?? 20_000;
    const timer = setInterval(() => {
      // 'close' comes a turn after destroy(): the interval may fire in between.
      if (session.destroyed || session.closed) {
        clearInterval(timer);
        return;
      }
      const unanswered = setTimeout(() => session.destroy(), timeoutMs).unref();
      const sent = session.ping((error) => {
        clearTimeout(unanswered);
        if (error) session.destroy();
      });
      if (!sent) clearTimeout(unanswered);
    }, period).unref();
    session.once('close', () => clearInterval(timer));
  }

  private send(
    session: http2.ClientHttp2Session,
    path: string,
    request: Buffer,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return reject(new GrpcError(GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded'));
      if (signal?.aborted) return reject(cancelledBy(signal));
      let stream: http2.ClientHttp2Stream;
      try {
        stream = session.request({
          ':method': 'POST',
          ':path': path,
          'content-type': 'application/grpc',
          te: 'trailers',
          'grpc-timeout': `${Math.min(remaining, 99_999_999)}m`,
          ...securityHeaders(this.options.security),
        });
      } catch (error) {
        return reject(new GrpcError(GrpcStatus.UNAVAILABLE, (error as Error).message));
      }

      const chunks: Buffer[] = [];
      let received = 0;
      let httpStatus = 0;
      let grpcStatus: number | undefined;
      let grpcMessage = '';
      let settled = false;
      const finish = (error: GrpcError | null, answer?: Buffer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(stream);
        if (error) {
          if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
          reject(error);
        } else resolve(answer as Buffer);
      };
      const timer = setTimeout(
        () => finish(new GrpcError(GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded')),
        remaining,
      );
      this.pending.set(stream, finish);
      const onAbort = () => finish(cancelledBy(signal as AbortSignal));
      signal?.addEventListener('abort', onAbort, { once: true });

      const readStatus = (headers: http2.IncomingHttpHeaders) => {
        const status = headers['grpc-status'];
        if (status !== undefined) {
          grpcStatus = Number(status);
          grpcMessage = decodeGrpcMessage(String(headers['grpc-message'] ?? ''));
        }
      };
      stream.on('response', (headers) => {
        httpStatus = Number(headers[':status']);
        readStatus(headers);
        // A Trailers-Only answer (an error status at once) carries no identity: its status speaks.
        const refused = grpcStatus === undefined ? this.options.security?.checkAnswer?.(headers) : null;
        if (refused) finish(new GrpcError(GrpcStatus.UNAUTHENTICATED, refused));
      });
      stream.on('trailers', readStatus);
      stream.on('data', (chunk: Buffer) => {
        received += chunk.length;
        const limit = Math.min(this.options.maxAnswerBytes ?? Number.POSITIVE_INFINITY, this.options.maxMessageBytes);
        // The 5-byte frame header may precede a message of the largest allowed size.
        if (received > limit + 5) {
          finish(new GrpcError(GrpcStatus.RESOURCE_EXHAUSTED, `the answer is larger than the limit (${limit} bytes)`));
          return;
        }
        chunks.push(chunk);
      });
      stream.on('end', () => {
        if (grpcStatus === undefined) {
          if (httpStatus === 200 || httpStatus === 0) {
            // A gRPC server always ends a call with a status; ending an accepted call without one
            // (or without any response) is what a process that exits mid-call looks like: its
            // connection closes under the stream.
            const how = connectionGone(session) ? 'its connection closed' : 'no gRPC status';
            finish(
              new CallDroppedError(GrpcStatus.UNAVAILABLE, `the server ended the call without an answer (${how})`),
            );
            return;
          }
          const code = httpStatusToGrpc[httpStatus] ?? GrpcStatus.UNKNOWN;
          finish(new GrpcError(code, `the server ended the call without a gRPC status (HTTP ${httpStatus})`));
          return;
        }
        if (grpcStatus !== GrpcStatus.OK) {
          finish(new GrpcError(grpcStatus, grpcMessage));
          return;
        }
        const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received);
        const message = unframe(body);
        if (message instanceof GrpcError) finish(message);
        else finish(null, message);
      });
      stream.on('close', () => {
        // Closed without 'end': reset by the server, or the connection dropped. A clean close may
        // come just before 'end' is delivered, so that case gets one more turn of the event loop.
        const code = stream.rstCode;
        if (code === http2.constants.NGHTTP2_NO_ERROR && !settled) {
          setImmediate(() =>
            finish(new CallDroppedError(GrpcStatus.UNAVAILABLE, 'the stream closed before its answer ended')),
          );
          return;
        }
        if (!settled) finish(streamClosedError(code, httpStatus === 0, connectionGone(session)));
      });
      // The 'close' that follows says more (the reset code) than the error itself.
      stream.on('error', () => {});
      stream.end(frame(request));
    });
  }
}

/** The :authority and per-call headers of secure and gateway modes. */
function securityHeaders(security: ChannelSecurity | undefined): Record<string, string> {
  if (!security) return {};
  const headers = security.callHeaders?.() ?? {};
  return security.authority ? { ':authority': security.authority, ...headers } : headers;
}

/** A stream the server never processed (REFUSED_STREAM): safe to send again. */
class NotProcessed extends GrpcError {}

/** Sessions that received a GOAWAY: the server is shutting the connection down. */
const wentAway = new WeakSet<http2.ClientHttp2Session>();

function connectionGone(session: http2.ClientHttp2Session): boolean {
  return session.destroyed || session.closed || wentAway.has(session);
}

/** The CANCELLED error of a call its caller aborted, with the abort's reason. */
export function cancelledBy(signal: AbortSignal): GrpcError {
  const reason: unknown = signal.reason;
  const why = reason instanceof Error ? reason.message : reason === undefined ? '' : String(reason);
  return new GrpcError(GrpcStatus.CANCELLED, why ? `the call was cancelled: ${why}` : 'the call was cancelled');
}

function streamClosedError(rstCode: number | undefined, noResponse: boolean, connectionGone: boolean): GrpcError {
  const { NGHTTP2_REFUSED_STREAM } = http2.constants;
  if (rstCode === NGHTTP2_REFUSED_STREAM && noResponse) {
    return new NotProcessed(GrpcStatus.UNAVAILABLE, 'the server refused the stream');
  }
  if (connectionGone) {
    return new CallDroppedError(GrpcStatus.UNAVAILABLE, 'the connection to the server closed during the call');
  }
  const mapped = rstCodeToGrpc.get(rstCode ?? -1);
  // Codes with a gRPC meaning (the server cancelled, or asks us to calm down) stay what they say;
  // any other reset of an accepted call means the server broke it.
  if (mapped !== undefined) return new GrpcError(mapped, `the stream was reset (HTTP/2 code ${rstCode})`);
  return new CallDroppedError(GrpcStatus.INTERNAL, `the server reset the call (HTTP/2 code ${rstCode})`);
}

// RST_STREAM codes as the gRPC spec maps them (PROTOCOL-HTTP2.md); the others are INTERNAL.
const rstCodeToGrpc = new Map<number, number>([
  [http2.constants.NGHTTP2_REFUSED_STREAM, GrpcStatus.UNAVAILABLE],
  [http2.constants.NGHTTP2_CANCEL, GrpcStatus.CANCELLED],
  [http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, GrpcStatus.RESOURCE_EXHAUSTED],
  [http2.constants.NGHTTP2_INADEQUATE_SECURITY, GrpcStatus.PERMISSION_DENIED],
]);

/** The gRPC length-prefixed message: a compression flag (0), the length (uint32, big-endian), the bytes. */
export function frame(message: Buffer): Buffer {
  const framed = Buffer.allocUnsafe(message.length + 5);
  framed[0] = 0;
  framed.writeUInt32BE(message.length, 1);
  message.copy(framed, 5);
  return framed;
}

/** A unary answer's single message, or why the body is not one. */
export function unframe(body: Buffer): Buffer | GrpcError {
  if (body.length < 5) return new GrpcError(GrpcStatus.INTERNAL, `the answer has no message (${body.length} bytes)`);
  if (body[0] !== 0) {
    // Nothing was offered in grpc-accept-encoding, so a server may not compress.
    return new GrpcError(GrpcStatus.INTERNAL, 'the answer is compressed although no compression was offered');
  }
  const length = body.readUInt32BE(1);
  if (body.length !== length + 5) {
    return new GrpcError(
      GrpcStatus.INTERNAL,
      `the answer's frame says ${length} bytes but ${body.length - 5} arrived (a unary call has one message)`,
    );
  }
  return body.subarray(5);
}

/** grpc-message is percent-encoded UTF-8. */
function decodeGrpcMessage(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
