import { type CallResult, capModelText, parsePythonJson } from '../model-runner/index.js';

export type DecodedAnswer = { ok: true; value: unknown } | { ok: false; reason: string };

/**
 * A reason stored with a FAILED row, cut to about 1 KiB: validation messages may quote the model's
 * answer, and the row, the logs and the reports must stay bounded whatever it sent.
 */
export function boundedReason(reason: string): string {
  return capModelText(reason);
}

/**
 * Levels of arrays and objects an answer may nest. A Condor answer nests 3 (a list of densities and
 * their params), 17 at most (predict_all's map, three levels of mixtures, each density wrapped). Past
 * ~13,000 levels of objects (14,500 of arrays) PostgreSQL's json parser runs out of stack (default
 * max_stack_depth 2 MB), and JSON.stringify throws past ~4,000: either fails the round's one insert,
 * and again on every retry.
 */
export const MAX_ANSWER_DEPTH = 64;

const tooDeep = (): DecodedAnswer => ({
  ok: false,
  reason: `the model's JSON answer nests deeper than ${MAX_ANSWER_DEPTH} levels`,
});

/**
 * A successful call's answer, decoded here rather than by the client (`decode: false`), so the text a
 * model sent is parsed once. Python's bare NaN/Infinity are decoded too. An answer nested deeper than
 * MAX_ANSWER_DEPTH is a failure with a reason, checked on the bytes before any parser or recursive
 * writer sees them. Only the validated value is stored, never this text.
 */
export function decodeAnswer(result: CallResult): DecodedAnswer {
  if (!result.raw)
    return valueNestsDeeperThan(result.value, MAX_ANSWER_DEPTH) ? tooDeep() : { ok: true, value: result.value };
  if (jsonNestsDeeperThan(result.raw.value, MAX_ANSWER_DEPTH)) return tooDeep();
  const text = result.raw.value.toString('utf8');
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    // Not standard JSON: Python's tokens, or not JSON at all.
  }
  try {
    return { ok: true, value: parsePythonJson(text) };
  } catch (error) {
    return { ok: false, reason: boundedReason(`the model's JSON answer does not parse: ${(error as Error).message}`) };
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * Whether UTF-8 JSON text opens more than `limit` arrays/objects inside one another: one pass over
 * the bytes (about a fifth of JSON.parse's time; the structural characters are ASCII, which UTF-8
 * never uses inside a multi-byte character), brackets inside strings ignored. Text that is not JSON
 * may count wrongly; its parser reports it then.
 */
export function jsonNestsDeeperThan(utf8: Uint8Array, limit: number): boolean {
  let depth = 0;
  const length = utf8.length;
  for (let i = 0; i < length; i++) {
    const byte = utf8[i];
    if (byte === QUOTE) {
      for (i++; i < length; i++) {
        const inString = utf8[i];
        if (inString === QUOTE) break;
        // The escaped character cannot end the string.
        if (inString === BACKSLASH) i++;
      }
    } else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
      if (++depth > limit) return true;
    } else if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}

/** The same for a decoded value, walked with a stack of its own so no depth can overflow the JS stack. */
export function valueNestsDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const pending: Array<{ value: object; depth: number }> = [{ value, depth: 1 }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    // A cycle only ever goes deeper, so it ends here too.
    if (next.depth > limit) return true;
    for (const child of Object.values(next.value)) {
      if (typeof child === 'object' && child !== null) pending.push({ value: child, depth: next.depth + 1 });
    }
  }
  return false;
}
