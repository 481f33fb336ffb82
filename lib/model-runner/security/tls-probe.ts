// The TLS probe of secure mode, before any gRPC: one mutual-TLS handshake to the node, the way
// CrunchDAO's client does it, to learn (and later pin) the node's certificate and to tell a
// certificate problem (final: reported once, never retried) from a node that is not up yet (retried).
import type { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { GrpcError, GrpcStatus } from '../grpc-channel.js';
import type { SecureCredentials } from './credentials.js';

/** The name every secure model node's certificate is checked against (SNI and hostname check). */
export function modelNodeHostname(modelId: string): string {
  return `model-node-${modelId}.crunchdao.internal`;
}

export interface ProbedNode {
  /** The node's leaf certificate, to pin: later connections must present this very one. */
  leaf: X509Certificate;
  /** Its DER SubjectPublicKeyInfo, what the signed identity's cert_pub must equal. */
  spki: Buffer;
}

/** An authentication failure: a certificate was refused, one side or the other. Final for this deployment. */
export function authenticationError(reason: string): GrpcError {
  return new GrpcError(GrpcStatus.UNAUTHENTICATED, reason);
}

/**
 * Handshakes with SNI = hostname, the chain checked against ca.crt, the name checked against
 * hostname, our client certificate presented; then waits for the server's first HTTP/2 bytes (its
 * SETTINGS): a server that refused our certificate closes the connection instead (TLS 1.3 tells the
 * client only after its side of the handshake is done). The node's key must be RSA.
 * Rejects with an UNAUTHENTICATED GrpcError for certificate problems, a plain Error otherwise
 * (connection refused, timeout: worth another attempt).
 */
export function probeModelNode(
  host: string,
  port: number,
  hostname: string,
  credentials: SecureCredentials,
  timeoutMs: number,
): Promise<ProbedNode> {
  return new Promise((resolve, reject) => {
    let handshaken = false;
    let settled = false;
    const socket = tls.connect({
      host,
      port,
      servername: hostname,
      ca: credentials.ca,
      cert: credentials.cert,
      key: credentials.key,
      ALPNProtocols: ['h2'],
      checkServerIdentity: (_host, certificate) => tls.checkServerIdentity(hostname, certificate),
    });
    const finish = (error: Error | null, node?: ProbedNode) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(node as ProbedNode);
    };
    const timer = setTimeout(
      () => finish(new Error(`no TLS answer from ${host}:${port} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.once('secureConnect', () => {
      handshaken = true;
      const leaf = socket.getPeerX509Certificate();
      if (!leaf) return finish(authenticationError('the node presented no certificate'));
      if (leaf.publicKey.asymmetricKeyType !== 'rsa') {
        return finish(
          authenticationError(`the node's certificate has an ${leaf.publicKey.asymmetricKeyType} key, not RSA`),
        );
      }
      const node = { leaf, spki: leaf.publicKey.export({ type: 'spki', format: 'der' }) };
      socket.once('data', () => finish(null, node));
    });
    socket.once('end', () => finish(refusedAfterHandshake(hostname)));
    socket.once('close', () => finish(refusedAfterHandshake(hostname)));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (handshaken) return finish(refusedAfterHandshake(hostname, error));
      finish(handshakeError(`${host}:${port}`, hostname, error));
    });
  });
}

function refusedAfterHandshake(hostname: string, error?: Error): GrpcError {
  const alert = error ? ` (${tlsAlert(error)})` : '';
  return authenticationError(
    `the node ${hostname} closed the connection right after the TLS handshake${alert}: it refused our client certificate (tls.crt not signed by the authority it trusts?)`,
  );
}

/**
 * A failed TLS connection in words: certificate problems become UNAUTHENTICATED GrpcErrors (final),
 * network ones stay plain Errors (worth another attempt).
 */
export function connectionFailure(error: Error, address: string, nodeName = address): Error {
  if (!(error as NodeJS.ErrnoException).code) return error;
  return handshakeError(address, nodeName, error as NodeJS.ErrnoException);
}

function handshakeError(address: string, hostname: string, error: NodeJS.ErrnoException): Error {
  const code = error.code ?? '';
  if (
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'EHOSTUNREACH',
      'ENETUNREACH',
      'ETIMEDOUT',
      'EPIPE',
      'ENOTFOUND',
      'EAI_AGAIN',
    ].includes(code)
  ) {
    return new Error(`cannot connect to ${address}: ${code}`);
  }
  if (/ALERT|alert/.test(code + error.message)) {
    return authenticationError(`the node ${hostname} refused the TLS handshake (${tlsAlert(error)})`);
  }
  return authenticationError(`the node ${hostname} failed the TLS check: ${certificateProblem(error)}`);
}

function certificateProblem(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'CERT_HAS_EXPIRED':
      return 'its certificate has expired';
    case 'CERT_NOT_YET_VALID':
      return 'its certificate is not valid yet';
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return `its certificate is not signed by a trusted authority (${error.code})`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `its certificate is not for this name (${error.message})`;
    default:
      return error.code ? `${error.code}: ${error.message}` : error.message;
  }
}

function tlsAlert(error: Error): string {
  return (error as NodeJS.ErrnoException).code ?? error.message;
}

/**
 * Whether something at host:port completes a TLS handshake (no certificate checked): in plain mode,
 * it tells "the model nodes are in secure mode" from "the model is down".
 */
export function speaksTls(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port, rejectUnauthorized: false, ALPNProtocols: ['h2'] });
    const done = (answer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}
