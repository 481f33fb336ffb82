import { readFile } from 'node:fs/promises';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';

/** Where the Temporal service is: a local dev server, a self-hosted cluster or Temporal Cloud. */
export interface TemporalOptions {
  /** host:port of the frontend, default 127.0.0.1:7233 */
  address: string;
  namespace: string;
  /** Mutual TLS (self-hosted or Cloud): paths of the client certificate and key, optional server CA. */
  tls?: { certPath: string; keyPath: string; serverRootCaPath?: string; serverName?: string };
  /** Temporal Cloud API key, instead of mTLS. */
  apiKey?: string;
}

export const defaultTemporalOptions: TemporalOptions = { address: '127.0.0.1:7233', namespace: 'default' };

async function tlsConfig(options: TemporalOptions): Promise<TLSConfig | boolean | undefined> {
  if (options.tls) {
    const [crt, key, ca] = await Promise.all([
      readFile(options.tls.certPath),
      readFile(options.tls.keyPath),
      options.tls.serverRootCaPath ? readFile(options.tls.serverRootCaPath) : Promise.resolve(undefined),
    ]);
    return {
      clientCertPair: { crt, key },
      ...(ca ? { serverRootCACertificate: ca } : {}),
      ...(options.tls.serverName ? { serverNameOverride: options.tls.serverName } : {}),
    };
  }
  return options.apiKey ? true : undefined;
}

/** A client for starting workflows, schedules and queries. */
export async function connectClient(options: TemporalOptions = defaultTemporalOptions): Promise<Client> {
  const tls = await tlsConfig(options);
  const connection = await Connection.connect({
    address: options.address,
    ...(tls !== undefined ? { tls } : {}),
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
  });
  return new Client({ connection, namespace: options.namespace });
}

/** The connection a worker polls its task queue through. */
export async function connectWorker(options: TemporalOptions = defaultTemporalOptions): Promise<NativeConnection> {
  const tls = await tlsConfig(options);
  return NativeConnection.connect({
    address: options.address,
    ...(tls !== undefined ? { tls } : {}),
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
  });
}
