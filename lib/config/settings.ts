import { z } from 'zod';
import { defaultGameId, games } from '../game/index.js';

/**
 * Every setting of the coordinator, read from the environment (a `.env` file is the user's affair).
 * One table: `coordinator --help` lists it (`settingsHelp`), and test/readme.test.ts checks that the README's
 * configuration table has a row for every setting, with its default.
 */
const definitions = {
  DATABASE_URL: {
    help: 'PostgreSQL connection URL; unset: database coordinator on the local server 127.0.0.1:5432 (created if missing)',
    schema: z.string().url().optional(),
  },
  TEMPORAL_ADDRESS: { help: 'Temporal frontend host:port', schema: z.string().default('127.0.0.1:7233') },
  TEMPORAL_NAMESPACE: { help: 'Temporal namespace', schema: z.string().default('default') },
  TEMPORAL_TLS_CERT: {
    help: 'client certificate file for mutual TLS (self-hosted cluster or Cloud)',
    schema: z.string().optional(),
  },
  TEMPORAL_TLS_KEY: { help: 'client key file for mutual TLS', schema: z.string().optional() },
  TEMPORAL_TLS_CA: { help: 'server CA file, when not a public one', schema: z.string().optional() },
  TEMPORAL_API_KEY: { help: 'Temporal Cloud API key (instead of mutual TLS)', schema: z.string().optional() },
  TEMPORAL_UI_PORT: {
    help: 'Web UI port of the local dev server (npm start)',
    schema: z.coerce.number().int().default(8233),
  },
  WORKFLOW_BUNDLE: {
    help: 'a workflow bundle built ahead (coordinator bundle-workflows); unset: workers bundle workflows/ at start',
    schema: z.string().optional(),
  },
  ORCHESTRATOR_URL: {
    help: 'discovery WebSocket of the model orchestrator, ws://host:port/{crunch_id}',
    schema: z.string().default('ws://127.0.0.1:9091/condorgame'),
  },
  GAME: {
    help: `the game definition (lib/game): ${Object.keys(games).join(', ')}`,
    schema: z.string().default(defaultGameId),
  },
  MARKET_DATA: {
    help:
      'price source: pricedb:URL | pyth:URL | file:PATH, or two real ones "primary|fallback" (the second also ' +
      'cross-checks the first); synthetic[:SEED] only alone, for demos and tests',
    schema: z
      .string()
      .default('pricedb:https://api--pricedb--tournament.crunchdao.cloud|pyth:https://benchmarks.pyth.network'),
  },
  PRICE_REPAIR_WINDOW_SECONDS: {
    help: 'each price ingestion run re-reads this trailing window: fills gaps, sees corrections',
    schema: z.coerce.number().int().min(60).default(300),
  },
  PRICE_MAX_JUMP: {
    help: 'per asset, the largest one-point move |ln(p/previous)| stored unconfirmed; "0.1" or "BTC=0.05,*=0.1"',
    schema: z.string().default('BTC=0.05,ETH=0.05,SOL=0.08,XAU=0.03,*=0.1'),
  },
  PRICE_MAX_DIVERGENCE: {
    help: 'largest |ln(a/b)| between the two sources for one minute before it is logged and shown in /healthz',
    schema: z.coerce.number().positive().default(0.01),
  },
  FEED_MAX_LAG_SECONDS: {
    help: "/healthz is degraded when an asset's newest stored price is older than this",
    schema: z.coerce.number().positive().default(180),
  },
  PREDICT_TIMEOUT_SECONDS: {
    help: "deadline of one model call, shorter than the gap between two slots of a model; unset: the game's",
    schema: z.coerce.number().positive().optional(),
  },
  SCORE_EVERY_SECONDS: { help: 'period of the score pass schedule', schema: z.coerce.number().positive().default(300) },
  MODEL_SHARDS: {
    help: 'predict fan-out activities per slot (spread over model-calls workers)',
    schema: z.coerce.number().int().positive().default(1),
  },
  MODEL_TRANSPORT: {
    help: 'gRPC to the models: http2 (our channel, the fastest) or grpc-js (the @grpc/grpc-js library)',
    schema: z.enum(['http2', 'grpc-js']).default('http2'),
  },
  SECURE_CERT_DIR: {
    help: "secure mode (CrunchDAO's model nodes over mutual TLS): directory with ca.crt, tls.crt, tls.key; unset: plain gRPC",
    schema: z.string().optional(),
  },
  GATEWAY_CERT_DIR: {
    help: 'gateway mode (model nodes behind TLS gateways): directory with the enrolled RSA key (key.pem or tls.key)',
    schema: z.string().optional(),
  },
  MAX_CONSECUTIVE_FAILURES: {
    help: 'FAILED calls in a row before a model is reported',
    schema: z.coerce.number().int().positive().default(100),
  },
  MAX_CONSECUTIVE_TIMEOUTS: {
    help: 'TIMEOUT calls in a row before a model is reported',
    schema: z.coerce.number().int().positive().default(100),
  },
  CHECKPOINT_INTERVAL_SECONDS: {
    help: 'period of the emission checkpoint schedule (one checkpoint per period; 604800 = weekly)',
    schema: z.coerce.number().int().positive().default(604_800),
  },
  CRUNCH_ID: {
    help: "the crunch's name on CrunchDAO's platform (/info); unset: the game's crunch id",
    schema: z.string().optional(),
  },
  CRUNCH_PUBKEY: {
    help: "the crunch's on-chain address: /info and every checkpoint's emission",
    schema: z.string().default(''),
  },
  NETWORK: { help: 'the Solana network the crunch lives on (/info)', schema: z.string().default('devnet') },
  COMPUTE_PROVIDER: {
    help: "wallet paid 100 % of a checkpoint's compute-provider pool; unset: none",
    schema: z.string().optional(),
  },
  DATA_PROVIDER: {
    help: "wallet paid 100 % of a checkpoint's data-provider pool; unset: none",
    schema: z.string().optional(),
  },
  API_KEY: {
    help: 'report gateway key: when set, admin routes (/reports/checkpoints/...) need it (X-API-Key, Authorization: Bearer or ?api_key)',
    schema: z.string().optional(),
  },
  API_READ_AUTH: {
    help: 'with API_KEY: also require it on read routes (all but the public ones)',
    schema: z
      .enum(['true', 'false', '1', '0', 'yes', 'no'])
      .default('false')
      .transform((value) => value === 'true' || value === '1' || value === 'yes'),
  },
  API_PUBLIC_PREFIXES: {
    help: 'with API_KEY: comma-separated path prefixes never asked for it (replaces the default list)',
    schema: z.string().optional(),
  },
  API_ADMIN_PREFIXES: {
    help: 'with API_KEY: comma-separated path prefixes always asked for it (default /reports/backfill,/reports/checkpoints/,/custom)',
    schema: z.string().optional(),
  },
  MAX_ANSWER_BYTES: {
    help: "largest answer a model may send, cut while it arrives (default: the game's, 4 MiB for Condor)",
    schema: z.coerce.number().int().positive().optional(),
  },
  GATEWAY_HOST: { help: 'report gateway listen address', schema: z.string().default('127.0.0.1') },
  GATEWAY_PORT: { help: 'report gateway port', schema: z.coerce.number().int().default(8000) },
  WORKER_METRICS_PORT: {
    help: "port of the workers' Prometheus /metrics (Temporal SDK and coordinator metrics); unset: none",
    schema: z.coerce.number().int().min(0).max(65535).optional(),
  },
  WORKER_METRICS_HOST: { help: "listen address of the workers' /metrics", schema: z.string().default('127.0.0.1') },
  LOG_LEVEL: { help: 'trace | debug | info | warn | error | silent', schema: z.string().default('info') },
} as const;

type Definitions = typeof definitions;
export type Settings = { [K in keyof Definitions]: z.infer<Definitions[K]['schema']> };

const settingsSchema = z.object(
  Object.fromEntries(Object.entries(definitions).map(([name, d]) => [name, d.schema])) as {
    [K in keyof Definitions]: Definitions[K]['schema'];
  },
);

/** Reads and checks the settings; a bad value fails with every problem named. */
export function readSettings(env: Record<string, string | undefined> = process.env): Settings {
  const present = Object.fromEntries(
    Object.keys(definitions).map((name) => [name, env[name] === '' ? undefined : env[name]]),
  );
  const parsed = settingsSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`bad settings: ${problems}`);
  }
  if (parsed.data.SECURE_CERT_DIR && parsed.data.GATEWAY_CERT_DIR) {
    throw new Error(
      'bad settings: SECURE_CERT_DIR and GATEWAY_CERT_DIR are both set; the model nodes are reached in one mode',
    );
  }
  return parsed.data as Settings;
}

/** Name, default and meaning of every setting, for --help and the README. */
export function settingsHelp(): Array<{ name: string; default: string; help: string }> {
  return Object.entries(definitions).map(([name, d]) => {
    const parsed = d.schema.safeParse(undefined);
    const fallback = parsed.success && parsed.data !== undefined ? String(parsed.data) : '';
    return { name, default: fallback, help: d.help };
  });
}
