// What a channel to one model needs in secure or gateway mode: its TLS options, headers to add to
// every call, and a check of every answer's headers. Built per deployment (secure mode probes the
// node first), so the channels only apply it (grpc-channel.ts).

import { type PeerCertificate, rootCertificates, checkServerIdentity as tlsCheckServerIdentity } from 'node:tls';
import { type ChannelCredentials, type ChannelOptions, credentials as grpcCredentials } from '@grpc/grpc-js';
import type { ModelInfo } from '../types.js';
import type { GatewayCredentials, ModelCredentials, SecureCredentials } from './credentials.js';
import { gatewayToken } from './gateway-token.js';
import { serverIdentityChecker } from './server-identity.js';
import { authenticationError, connectionFailure, modelNodeHostname, probeModelNode } from './tls-probe.js';

export interface ChannelSecurity {
  /** TLS options of the connection (certificates, SNI, identity check). */
  tls: {
    ca?: Buffer | Array<Buffer | string>;
    cert?: Buffer;
    key?: Buffer;
    servername?: string;
    checkServerIdentity?: (host: string, certificate: PeerCertificate) => Error | undefined;
  };
  /** The :authority of every call (secure mode: the node's name, as the reference sets it). */
  authority?: string;
  /** Headers added to every call (gateway mode's fresh token). */
  callHeaders?: () => Record<string, string>;
  /** Checks an answer's initial headers: null if fine, else why the node is not trusted. */
  checkAnswer?: (headers: Record<string, string | string[] | undefined>) => string | null;
  /** A failed connection in words; certificate problems as UNAUTHENTICATED GrpcErrors (not retried). */
  connectError: (error: Error) => Error;
}

/** The overall bound of the TLS probe, as the reference's. */
export const PROBE_TIMEOUT_MS = 5_000;

export async function channelSecurityFor(credentials: ModelCredentials, model: ModelInfo): Promise<ChannelSecurity> {
  return credentials.kind === 'secure' ? secureChannel(credentials, model) : gatewayChannel(credentials, model);
}

async function secureChannel(credentials: SecureCredentials, model: ModelInfo): Promise<ChannelSecurity> {
  const hostname = modelNodeHostname(model.modelId);
  const node = await probeModelNode(model.ip, model.port, hostname, credentials, PROBE_TIMEOUT_MS);
  const expected = {
    walletPubkey: model.cruncherWalletPubkey,
    hotkey: model.cruncherHotkey,
    modelId: model.modelId,
    nodeSpki: node.spki,
  };
  return {
    tls: {
      ca: credentials.ca,
      cert: credentials.cert,
      key: credentials.key,
      servername: hostname,
      // Pinned: the chain is still checked against ca.crt, and the node must present the very
      // certificate the probe saw (the one whose key the signed identity names).
      checkServerIdentity: (_host, certificate) => {
        if (!node.leaf.raw.equals(certificate.raw)) {
          return authenticationError(`the node ${hostname} presented another certificate than at its probe`);
        }
        return tlsCheckServerIdentity(hostname, certificate);
      },
    },
    authority: hostname,
    connectError: (error) => connectionFailure(error, `${model.ip}:${model.port}`, hostname),
    checkAnswer: serverIdentityChecker(expected),
  };
}

function gatewayChannel(credentials: GatewayCredentials, model: ModelInfo): ChannelSecurity {
  return {
    tls: credentials.extraCa ? { ca: [...rootCertificates, credentials.extraCa] } : {},
    callHeaders: () => gatewayToken(credentials, model.modelId),
    connectError: (error) => connectionFailure(error, `${model.ip}:${model.port}`),
  };
}

/** The same security on the grpc-js transport: its channel credentials and options. */
export function grpcJsChannelSettings(security: ChannelSecurity): {
  credentials: ChannelCredentials;
  options: ChannelOptions;
} {
  const { ca, cert, key, checkServerIdentity } = security.tls;
  const roots = ca === undefined ? null : Buffer.isBuffer(ca) ? ca : Buffer.from(ca.map(String).join('\n'));
  const credentials = grpcCredentials.createSsl(
    roots,
    key ?? null,
    cert ?? null,
    checkServerIdentity ? { checkServerIdentity } : {},
  );
  // Secure mode: the node's name for the TLS check and :authority, as the reference sets both.
  const options: ChannelOptions = security.authority
    ? { 'grpc.ssl_target_name_override': security.authority, 'grpc.default_authority': security.authority }
    : {};
  return { credentials, options };
}
