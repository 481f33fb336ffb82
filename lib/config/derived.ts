import { defaultDatabaseUrl } from '../db/index.js';
import type { TemporalOptions } from '../temporal/index.js';
import type { Settings } from './settings.js';

/** The database to use: DATABASE_URL, else the coordinator database on the local server. */
export function databaseUrl(settings: Settings): string {
  return settings.DATABASE_URL ?? defaultDatabaseUrl;
}

export function temporalOptions(settings: Settings): TemporalOptions {
  const tls =
    settings.TEMPORAL_TLS_CERT && settings.TEMPORAL_TLS_KEY
      ? {
          certPath: settings.TEMPORAL_TLS_CERT,
          keyPath: settings.TEMPORAL_TLS_KEY,
          ...(settings.TEMPORAL_TLS_CA ? { serverRootCaPath: settings.TEMPORAL_TLS_CA } : {}),
        }
      : undefined;
  return {
    address: settings.TEMPORAL_ADDRESS,
    namespace: settings.TEMPORAL_NAMESPACE,
    ...(tls ? { tls } : {}),
    ...(settings.TEMPORAL_API_KEY ? { apiKey: settings.TEMPORAL_API_KEY } : {}),
  };
}
