// A stand-in for one of CrunchDAO's production model nodes, in front of a real model-runner process:
// a TLS-terminating HTTP/2 proxy that does what the node's server does (PRODUCTION notes in
// docs/production.md).
// - secure mode: TLS with a client certificate required (signed by the given CA); on every call,
//   the client certificate's SPKI hash must be registered, else UNAUTHENTICATED; every answer starts
//   with the node's three identity headers, replayed verbatim.
// - gateway mode: TLS without client certificate; every call but health ones must carry a
//   x-gateway-auth-* token: a registered key hash, a valid RSA signature, a timestamp within 30 s.
import { createHash, createPublicKey, verify } from 'node:crypto';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';

export interface SecureNodeOptions {
  mode: 'secure' | 'gateway';
  /** The plain model-runner process behind the node. */
  upstreamPort: number;
  /** The node's certificate and key (PEM). */
  cert: Buffer;
  key: Buffer;
  /** Secure mode: the authority client certificates must be signed by. */
  clientCa?: Buffer;
  /** Lower-case hex SHA-256 of the coordinator certificates' SPKI this node accepts. */
  registeredHashes: string[];
  /** Secure mode: the identity headers sent on every answer. */
  identity?: Record<string, string>;
  /** Default: a free port. */
  port?: number;
}

export interface SecureModelNode {
  readonly port: number;
  /** Calls refused as UNAUTHENTICATED so far, and the gateway tokens seen (their timestamps). */
  readonly refused: number;
  readonly tokenTimestamps: number[];
  /** Replaces the identity headers of later answers (a node whose identity changes under way). */
  setIdentity(identity: Record<string, string>): void;
  close(): Promise<void>;
}

const UNREGISTERED = 'TLS certificate hash does not match registered certificate';

export async function startSecureModelNode(options: SecureNodeOptions): Promise<SecureModelNode> {
  const secure = options.mode === 'secure';
  const server = http2.createSecureServer({
    cert: options.cert,
    key: options.key,
    allowHTTP1: false,
    ...(secure ? { ca: options.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
  });
  const upstream = http2.connect(`http://127.0.0.1:${options.upstreamPort}`);
  upstream.on('error', () => {});
  const state = { refused: 0, tokenTimestamps: [] as number[], identity: options.identity ?? {} };
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream, headers) => {
    const path = String(headers[':path']);
    const refusal = secure
      ? clientCertificateRefusal(stream.session?.socket as TLSSocket, options.registeredHashes)
      : gatewayTokenRefusal(headers, path, options.registeredHashes, state.tokenTimestamps);
    if (refusal) {
      state.refused++;
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': '16',
          'grpc-message': encodeURIComponent(refusal),
        },
        { endStream: true },
      );
      return;
    }
    forward(stream, headers, upstream, secure ? state.identity : {});
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get refused() {
      return state.refused;
    },
    tokenTimestamps: state.tokenTimestamps,
    setIdentity(identity) {
      state.identity = identity;
    },
    async close() {
      upstream.destroy();
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function clientCertificateRefusal(socket: TLSSocket | undefined, registered: string[]): string | null {
  const certificate = socket?.getPeerX509Certificate();
  if (!certificate) return UNREGISTERED;
  const hash = createHash('sha256')
    .update(certificate.publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
  return registered.includes(hash) ? null : UNREGISTERED;
}

function gatewayTokenRefusal(
  headers: http2.IncomingHttpHeaders,
  path: string,
  registered: string[],
  timestamps: number[],
): string | null {
  if (path.startsWith('/grpc.health.v1.Health/')) return null;
  const message = headers['x-gateway-auth-message'];
  const signature = headers['x-gateway-auth-signature'];
  const pubkey = headers['x-gateway-auth-pubkey'];
  if (typeof message !== 'string' || typeof signature !== 'string' || typeof pubkey !== 'string') {
    return 'missing gateway auth metadata';
  }
  const keyDer = Buffer.from(pubkey, 'base64');
  if (!registered.includes(createHash('sha256').update(keyDer).digest('hex'))) return 'certificate not registered';
  const bytes = Buffer.from(message, 'base64');
  let valid = false;
  try {
    valid = verify(
      'sha256',
      bytes,
      createPublicKey({ key: keyDer, format: 'der', type: 'spki' }),
      Buffer.from(signature, 'base64'),
    );
  } catch {
    valid = false;
  }
  if (!valid) return 'invalid signature';
  const { timestamp } = JSON.parse(bytes.toString()) as { timestamp: number };
  timestamps.push(timestamp);
  if (Math.abs(Date.now() / 1000 - timestamp) > 30) return 'token expired';
  return null;
}

/** Sends the call to the model process and its answer back: identity headers first, then data and status. */
function forward(
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  upstream: http2.ClientHttp2Session,
  identity: Record<string, string>,
): void {
  const request = upstream.request({
    ':method': 'POST',
    ':path': String(headers[':path']),
    'content-type': 'application/grpc',
    te: 'trailers',
    ...(headers['grpc-timeout'] ? { 'grpc-timeout': String(headers['grpc-timeout']) } : {}),
  });
  let status: Record<string, string> = { 'grpc-status': '13', 'grpc-message': 'the model process did not answer' };
  const keepStatus = (fields: http2.IncomingHttpHeaders) => {
    if (fields['grpc-status'] !== undefined) {
      status = { 'grpc-status': String(fields['grpc-status']), 'grpc-message': String(fields['grpc-message'] ?? '') };
    }
  };
  request.on('response', (fields) => {
    keepStatus(fields);
    stream.respond({ ':status': 200, 'content-type': 'application/grpc', ...identity }, { waitForTrailers: true });
  });
  request.on('trailers', keepStatus);
  request.on('data', (chunk: Buffer) => stream.write(chunk));
  request.on('end', () => {
    if (!stream.headersSent)
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', ...identity }, { waitForTrailers: true });
    stream.end();
  });
  request.on('error', () => {
    if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  });
  stream.on('wantTrailers', () => stream.sendTrailers(status));
  stream.on('error', () => request.close(http2.constants.NGHTTP2_CANCEL));
  stream.on('close', () => {
    if (!request.closed) request.close(http2.constants.NGHTTP2_CANCEL);
  });
  stream.pipe(request);
}
