// The baseline: the same calls and inserts as a slot's round, from a plain Node loop with nothing
// else: one call to every model, and answers stored as they come (each insert takes what arrived
// while the previous one ran), SUCCESS with the model's own text, TIMEOUT/FAILED with the reason.
import { type DatabasePool, insertPredictions, type PredictionInput } from '../../lib/db/index.js';
import type { CallResult, ModelRunnerClient } from '../../lib/model-runner/index.js';

export interface PlainSlot {
  slotSec: number;
  asset: string;
  horizon: number;
  step: number;
  timeoutMs: number;
}

export async function plainSlot(client: ModelRunnerClient, db: DatabasePool, slot: PlainSlot): Promise<void> {
  let pending: PredictionInput[] = [];
  let running: Promise<void> | null = null;
  const drain = async () => {
    try {
      while (pending.length > 0) {
        const batch = pending;
        pending = [];
        await insertPredictions(db, batch);
      }
    } finally {
      running = null;
    }
  };
  const performedAt = Date.now() / 1000;
  const store = (result: CallResult) => {
    const base = {
      modelId: result.model.modelId,
      deploymentId: result.model.deploymentId,
      asset: slot.asset,
      horizon: slot.horizon,
      step: slot.step,
      execTimeUs: result.execTimeUs,
      performedAt,
      scheduledAt: slot.slotSec,
    };
    const text = result.raw?.value.toString('utf8');
    pending.push(
      result.status === 'SUCCESS' && text
        ? { ...base, status: 'SUCCESS', distributionsJson: text }
        : { ...base, status: result.status === 'SUCCESS' ? 'FAILED' : result.status, reason: result.error ?? null },
    );
    running ??= drain();
  };
  await client.call('predict', [slot.asset, slot.horizon, slot.step], {
    timeoutMs: slot.timeoutMs,
    decode: false,
    onResult: store,
  });
  while (running) await running;
}
