import type { WorkflowHandle } from '@temporalio/client';

export interface HistoryFigures {
  /** The history's size as the Temporal server counts it (its 50 MB limit is on this). */
  bytes: number;
  events: number;
  /** The largest payload anywhere in the history: data plus metadata bytes. */
  largestPayloadBytes: number;
  /** Which event and field held it. */
  largestPayloadAt: string;
}

interface PayloadLike {
  data?: Uint8Array | null;
  metadata?: Record<string, Uint8Array> | null;
}

function isPayload(value: object): value is PayloadLike {
  return 'data' in value && 'metadata' in value && (value.data == null || value.data instanceof Uint8Array);
}

function payloadBytes(payload: PayloadLike): number {
  let bytes = payload.data?.length ?? 0;
  for (const [key, value] of Object.entries(payload.metadata ?? {})) bytes += Buffer.byteLength(key) + value.length;
  return bytes;
}

/** Every payload in a decoded history event, wherever it sits (inputs, results, headers, search attributes). */
function* payloadsIn(value: unknown, path: string): Generator<[string, PayloadLike]> {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return;
  if (isPayload(value)) {
    yield [path, value];
    return;
  }
  for (const [key, child] of Object.entries(value)) yield* payloadsIn(child, path ? `${path}.${key}` : key);
}

/** Size of a finished workflow's history and of the largest payload recorded in it. */
export async function historyFigures(handle: WorkflowHandle): Promise<HistoryFigures> {
  const [description, history] = await Promise.all([handle.describe(), handle.fetchHistory()]);
  if (description.historySize === undefined) throw new Error('the Temporal server did not report the history size');
  const events = history.events ?? [];
  let largestPayloadBytes = 0;
  let largestPayloadAt = 'none';
  for (const [index, event] of events.entries()) {
    for (const [path, payload] of payloadsIn(event, '')) {
      const bytes = payloadBytes(payload);
      if (bytes > largestPayloadBytes) {
        largestPayloadBytes = bytes;
        largestPayloadAt = `event ${index + 1} ${path}`;
      }
    }
  }
  return { bytes: description.historySize, events: events.length, largestPayloadBytes, largestPayloadAt };
}
