// How a model connection tells authentication failures (final) from the rest, and what plain mode
// says when it meets a node that speaks TLS.
import { GrpcError, GrpcStatus } from '../grpc-channel.js';
import { speaksTls } from './tls-probe.js';

/**
 * A certificate refused either way, a signed identity that does not hold, or a node answering
 * UNAUTHENTICATED (our certificate hash is not registered, a gateway token refused).
 */
export function isAuthenticationFailure(error: unknown): error is GrpcError {
  return error instanceof GrpcError && error.code === GrpcStatus.UNAUTHENTICATED;
}

/** An authentication failure in words, without the status name the message repeats. */
export function authenticationReason(error: GrpcError): string {
  return error.details;
}

export const SECURE_MODE_HINT =
  'the model nodes are in secure mode (they speak TLS) and this coordinator has no credentials: set SECURE_CERT_DIR (mutual TLS, the directory with ca.crt, tls.crt, tls.key) or GATEWAY_CERT_DIR (TLS gateway)';

/** In plain mode, after a failed attempt: the hint if the model's address answers a TLS handshake. */
export async function notSecureModeHint(host: string, port: number, timeoutMs = 5_000): Promise<string | null> {
  return (await speaksTls(host, port, timeoutMs)) ? SECURE_MODE_HINT : null;
}
