import type { Command } from 'commander';
import pino from 'pino';
import { readSettings } from '../../lib/config/index.js';
import { getGame } from '../../lib/game/index.js';
import {
  CredentialsError,
  loadModelCredentials,
  type ModelCredentials,
  probeModels,
  toModelInfo,
} from '../../lib/model-runner/index.js';
import { integer } from '../options.js';
import { announcedModels } from './models.js';

interface ProbeFlags {
  orchestratorUrl?: string;
  secureCertDir?: string;
  gatewayCertDir?: string;
  timeoutMs: number;
}

/**
 * `coordinator probe`: before going live, connects to every model the orchestrator announces in the
 * configured mode, runs Setup and a health check, and prints one JSON line per model then a summary.
 * Exit code 0 only when every model is ok. Nothing is reported to the orchestrator.
 */
export function register(program: Command): void {
  program
    .command('probe')
    .description('connect to every announced model (Setup and health check) in the configured mode; one JSON line each')
    .option('--orchestrator-url <ws>', 'discovery WebSocket (default ORCHESTRATOR_URL)')
    .option('--secure-cert-dir <dir>', 'secure mode: ca.crt, tls.crt, tls.key (default SECURE_CERT_DIR)')
    .option('--gateway-cert-dir <dir>', 'gateway mode: the enrolled RSA key (default GATEWAY_CERT_DIR)')
    .option(
      '--timeout-ms <n>',
      'bound of each step of a model (connect, Setup, health)',
      integer('--timeout-ms', 1),
      10_000,
    )
    .action(async (flags: ProbeFlags) => {
      process.exitCode = await probe(flags);
    });
}

async function probe(flags: ProbeFlags): Promise<number> {
  const settings = readSettings();
  // Either flag chooses the mode alone: the settings' mode is not mixed in.
  const fromFlags = flags.secureCertDir !== undefined || flags.gatewayCertDir !== undefined;
  let credentials: ModelCredentials | null;
  try {
    credentials = loadModelCredentials(
      fromFlags
        ? { secureCertDir: flags.secureCertDir, gatewayCertDir: flags.gatewayCertDir }
        : { secureCertDir: settings.SECURE_CERT_DIR, gatewayCertDir: settings.GATEWAY_CERT_DIR },
    );
  } catch (error) {
    if (!(error instanceof CredentialsError)) throw error;
    console.error(
      error.message.replace('SECURE_CERT_DIR and GATEWAY_CERT_DIR are', '--secure-cert-dir and --gateway-cert-dir are'),
    );
    return 2;
  }
  if (credentials) {
    console.error(
      `${credentials.kind} mode; certificate hash to register on chain (SHA-256 of the certificate's public key): ${credentials.certificateHash}`,
    );
  } else {
    console.error('plain mode (no --secure-cert-dir / --gateway-cert-dir, nor SECURE_CERT_DIR / GATEWAY_CERT_DIR)');
  }

  const url = flags.orchestratorUrl ?? settings.ORCHESTRATOR_URL;
  let states: Awaited<ReturnType<typeof announcedModels>>;
  try {
    states = await announcedModels(url, flags.timeoutMs);
  } catch (error) {
    console.error((error as Error).message);
    return 1;
  }
  const running = states.filter((state) => state.state === 'RUNNING');
  const reachable = running.filter((state) => state.ip && state.port);
  const results = await probeModels(reachable.map(toModelInfo), {
    className: getGame(settings.GAME).setupClassName,
    credentials,
    timeoutMs: flags.timeoutMs,
    // stdout carries the JSON lines only.
    logger: pino({ level: 'silent' }),
  });
  for (const state of running.filter((state) => !reachable.includes(state))) {
    results.push({ model_id: state.modelId, ok: false, error: 'announced RUNNING without an address' });
  }
  for (const result of results) console.log(JSON.stringify(result));
  const ok = results.filter((result) => result.ok).length;
  console.log(JSON.stringify({ probed: results.length, ok }));
  return ok === results.length ? 0 : 1;
}
