import { type DatabasePool, recordDeployments, setExpectedToRun, upsertModels } from '../db/index.js';
import type { ModelInfo } from '../model-runner/index.js';

/**
 * Mirrors the fleet into the database before anything refers to it: every model expected to run (and
 * every connected one) is upserted with expected_to_run = true, its current deployment recorded, and
 * models no longer expected are flagged so they stop getting ABSENT rows (docs/game.md#where-we-differ-from-crunchdaos-code). Set-based.
 */
export async function recordFleet(
  db: DatabasePool,
  fleet: { expected: readonly ModelInfo[]; connected: readonly ModelInfo[] },
  previouslyExpected: readonly string[] = [],
): Promise<void> {
  const byId = new Map<string, ModelInfo>();
  for (const model of [...fleet.expected, ...fleet.connected]) byId.set(model.modelId, model);
  const models = [...byId.values()];
  if (models.length > 0) {
    await upsertModels(
      db,
      models.map((model) => ({
        modelId: model.modelId,
        name: model.name || model.modelId,
        cruncherId: model.cruncherId,
        cruncherName: model.cruncherName,
        wallet: model.cruncherWalletPubkey ?? null,
        hotkey: model.cruncherHotkey ?? null,
        expectedToRun: true,
      })),
    );
    await recordDeployments(
      db,
      models.map((model) => ({
        deploymentId: model.deploymentId,
        modelId: model.modelId,
        ip: model.ip,
        port: model.port,
        state: 'RUNNING',
      })),
    );
  }
  const gone = previouslyExpected.filter((id) => !byId.has(id));
  if (gone.length > 0) await setExpectedToRun(db, gone, false);
}
