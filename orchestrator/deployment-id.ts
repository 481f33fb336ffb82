const pad = (value: number, width: number): string => String(value).padStart(width, '0');

/**
 * `{model_id}_{YYYYmmdd_HHMMSS_mmm}` in UTC, as CrunchDAO's orchestrator names deployments (docs/protocol.md#discovery).
 * Clients tell redeploys apart by this id, so two deployments of one model must never share it:
 * `after` (the model's previous id) pushes the stamp forward a millisecond when the clock has not moved.
 */
export function deploymentId(modelId: string, now: Date = new Date(), after?: string): string {
  let at = now.getTime();
  for (;;) {
    const id = `${modelId}_${formatStamp(new Date(at))}`;
    if (after === undefined || id > after || !after.startsWith(`${modelId}_`)) return id;
    at += 1;
  }
}

function formatStamp(at: Date): string {
  const date = `${at.getUTCFullYear()}${pad(at.getUTCMonth() + 1, 2)}${pad(at.getUTCDate(), 2)}`;
  const time = `${pad(at.getUTCHours(), 2)}${pad(at.getUTCMinutes(), 2)}${pad(at.getUTCSeconds(), 2)}`;
  return `${date}_${time}_${pad(at.getUTCMilliseconds(), 3)}`;
}
