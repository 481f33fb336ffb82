import { type CallResult, parsePythonJson } from '../model-runner/index.js';

export type DecodedAnswer =
  /** `json`: the answer's text when it is standard JSON, so storage can keep it instead of serialising again. */
  { ok: true; value: unknown; json?: string } | { ok: false; reason: string };

/**
 * A successful call's answer, decoded here rather than by the client (`decode: false`), so the text a
 * model sent is parsed once and stored as it is. Python's bare NaN/Infinity are decoded too, but such
 * text is not kept: PostgreSQL's json refuses it.
 */
export function decodeAnswer(result: CallResult): DecodedAnswer {
  if (!result.raw) return { ok: true, value: result.value };
  const text = result.raw.value.toString('utf8');
  try {
    return { ok: true, value: JSON.parse(text), json: text };
  } catch {
    // Not standard JSON: Python's tokens, or not JSON at all.
  }
  try {
    return { ok: true, value: parsePythonJson(text) };
  } catch (error) {
    return { ok: false, reason: `the model's JSON answer does not parse: ${(error as Error).message}` };
  }
}
