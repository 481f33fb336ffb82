// The same channel on @grpc/grpc-js, for coordinators who prefer the library (MODEL_TRANSPORT=grpc-js).
// It costs more CPU per call than the default (bench/README.md, fan-out), and behaves the same to a
// model connection: the same deadlines, limits and GrpcErrors.
import { type ChannelOptions, Client, type ClientUnaryCall, credentials, Metadata } from '@grpc/grpc-js';
import {
  CallDroppedError,
  cancelledBy,
  type GrpcChannel,
  type GrpcChannelOptions,
  GrpcError,
  GrpcStatus,
  type UnaryOptions,
} from './grpc-channel.js';
import { type ChannelSecurity, grpcJsChannelSettings } from './security/channel-security.js';

const passThrough = (bytes: Buffer): Buffer => bytes;

export class GrpcJsChannel implements GrpcChannel {
  private readonly client: Client;
  private readonly inFlight = new Set<ClientUnaryCall>();
  private closed = false;
  private readonly security: ChannelSecurity | undefined;

  constructor(host: string, port: number, options: GrpcChannelOptions) {
    this.security = options.security;
    const secure = options.security ? grpcJsChannelSettings(options.security) : null;
    const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    const channelOptions: ChannelOptions = {
      'grpc.max_send_message_length': options.maxMessageBytes,
      'grpc.max_receive_message_length': Math.min(
        options.maxAnswerBytes ?? Number.POSITIVE_INFINITY,
        options.maxMessageBytes,
      ),
      // A reconnect must open a new TCP connection, not reuse the shared subchannel of the old one.
      'grpc.use_local_subchannel_pool': 1,
      'grpc.initial_reconnect_backoff_ms': options.initialReconnectBackoffMs ?? 100,
      'grpc.max_reconnect_backoff_ms': options.maxReconnectBackoffMs ?? 1000,
      'grpc.keepalive_time_ms': options.keepaliveMs ?? 300_000,
      'grpc.keepalive_timeout_ms': options.keepaliveTimeoutMs ?? 20_000,
      // Channelz bookkeeping costs time on every call and nothing here reads it.
      'grpc.enable_channelz': 0,
      ...secure?.options,
    };
    this.client = new Client(
      `${bracketed}:${port}`,
      secure?.credentials ?? credentials.createInsecure(),
      channelOptions,
    );
  }

  waitForReady(deadline: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new GrpcError(GrpcStatus.CANCELLED, 'the channel was closed'));
      this.client.waitForReady(deadline, (error) => {
        if (error) reject(new GrpcError(GrpcStatus.DEADLINE_EXCEEDED, `not connected: ${error.message}`));
        else resolve();
      });
    });
  }

  unary(path: string, request: Buffer, { deadline, waitForReady, signal }: UnaryOptions): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new GrpcError(GrpcStatus.CANCELLED, 'the channel was closed'));
      if (signal?.aborted) return reject(cancelledBy(signal));
      const onAbort = () => call.cancel();
      const metadata = new Metadata({ waitForReady });
      for (const [name, value] of Object.entries(this.security?.callHeaders?.() ?? {})) metadata.set(name, value);
      let refused: string | null = null;
      const call = this.client.makeUnaryRequest(
        path,
        passThrough,
        passThrough,
        request,
        metadata,
        { deadline },
        (error, answer) => {
          this.inFlight.delete(call);
          signal?.removeEventListener('abort', onAbort);
          if (refused) reject(new GrpcError(GrpcStatus.UNAUTHENTICATED, refused));
          else if (!error) resolve(answer as Buffer);
          else if (signal?.aborted && error.code === GrpcStatus.CANCELLED) reject(cancelledBy(signal));
          else reject(toGrpcError(error.code, error.details || error.message));
        },
      );
      const { checkAnswer } = this.security ?? {};
      if (checkAnswer) {
        // The answer's initial headers carry a secure node's identity: checked before the answer is used.
        call.on('metadata', (headers: Metadata) => {
          refused = checkAnswer(headers.toHttp2Headers() as Record<string, string | string[] | undefined>);
          if (refused) call.cancel();
        });
      }
      this.inFlight.add(call);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const call of this.inFlight) call.cancel();
    this.inFlight.clear();
    this.client.close();
  }
}

/**
 * grpc-js's words for a call the server's side ended without an answer (the connection dropped,
 * was reset or went away, the stream was reset or ended without a status): see CallDroppedError.
 */
const droppedDetails =
  /Connection dropped|ECONNRESET|EPIPE|socket hang up|GOAWAY|Call ended without gRPC status|RST_STREAM with code (?:0|2)\b/i;

function toGrpcError(code: number, details: string): GrpcError {
  const dropped = (code === GrpcStatus.UNAVAILABLE || code === GrpcStatus.INTERNAL) && droppedDetails.test(details);
  return dropped ? new CallDroppedError(code, details) : new GrpcError(code, details);
}
