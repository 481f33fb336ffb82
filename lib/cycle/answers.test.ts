import { describe, expect, it } from 'vitest';
import { condor } from '../game/index.js';
import { type CallResult, VariantType } from '../model-runner/index.js';
import { boundedReason, decodeAnswer, jsonNestsDeeperThan, MAX_ANSWER_DEPTH, valueNestsDeeperThan } from './answers.js';

const model = { modelId: 'm', deploymentId: 'm_1', name: 'm', cruncherId: 'c', cruncherName: 'c', ip: '::1', port: 1 };
const raw = (text: string): CallResult => ({
  model,
  status: 'SUCCESS',
  value: null,
  execTimeUs: 1,
  raw: { type: VariantType.JSON, value: Buffer.from(text) },
});
const decoded = (value: unknown): CallResult => ({ model, status: 'SUCCESS', value, execTimeUs: 1 });

const tooDeep = { ok: false, reason: `the model's JSON answer nests deeper than ${MAX_ANSWER_DEPTH} levels` };
/** `depth` levels, alternating lists and objects, around `core`. */
const nestedText = (depth: number, core = '0') => {
  let text = core;
  for (let level = 0; level < depth; level++) text = level % 2 ? `{"k": ${text}}` : `[${text}]`;
  return text;
};
/** The same as a value, built without recursion. */
const nestedValue = (depth: number): unknown => {
  let value: unknown = 0;
  for (let level = 0; level < depth; level++) value = level % 2 ? { k: value } : [value];
  return value;
};

describe('decodeAnswer', () => {
  it('keeps the text of standard JSON as the model wrote it, beside its value', () => {
    const text = '[{"type": "builtin", "name": "norm", "params": {"loc": 0.0, "scale": 1e-05}}]';
    expect(decodeAnswer(raw(text))).toEqual({ ok: true, value: JSON.parse(text) });
  });

  it("decodes Python's NaN and Infinity but keeps no text PostgreSQL's json would refuse", () => {
    const decoded = decodeAnswer(raw('[NaN, Infinity, -Infinity, 1.5]'));
    expect(decoded).toEqual({ ok: true, value: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.5] });
  });

  it('turns text that is not JSON into a reason instead of throwing', () => {
    const decoded = decodeAnswer(raw('[{"type": '));
    expect(decoded.ok).toBe(false);
    expect(decoded.ok ? '' : decoded.reason).toMatch(/^the model's JSON answer does not parse: /);
  });

  it('passes through a value the client decoded itself (None, numbers, strings)', () => {
    expect(decodeAnswer(decoded(null))).toEqual({ ok: true, value: null });
    expect(decodeAnswer(decoded('text'))).toEqual({ ok: true, value: 'text' });
  });

  it(`accepts text nested ${MAX_ANSWER_DEPTH} levels deep and fails one level more with a reason`, () => {
    const atLimit = nestedText(MAX_ANSWER_DEPTH);
    expect(decodeAnswer(raw(atLimit))).toEqual({ ok: true, value: JSON.parse(atLimit) });
    expect(decodeAnswer(raw(nestedText(MAX_ANSWER_DEPTH + 1)))).toEqual(tooDeep);
    // Python's tokens take the other parser; the limit is the same.
    expect(decodeAnswer(raw(nestedText(MAX_ANSWER_DEPTH, 'NaN'))).ok).toBe(true);
    expect(decodeAnswer(raw(nestedText(MAX_ANSWER_DEPTH + 1, 'NaN')))).toEqual(tooDeep);
  });

  it('fails text nested a million levels deep without overflowing any stack', () => {
    const depth = 1_000_000;
    expect(decodeAnswer(raw(`${'['.repeat(depth)}${']'.repeat(depth)}`))).toEqual(tooDeep);
    expect(decodeAnswer(raw(`${'{"a":'.repeat(depth)}NaN${'}'.repeat(depth)}`))).toEqual(tooDeep);
    // Too deep and broken: depth is what it is told first, never an exception.
    expect(decodeAnswer(raw('['.repeat(depth)))).toEqual(tooDeep);
  });

  it('fails a decoded value nested too deep, walking it without recursion', () => {
    expect(decodeAnswer(decoded(nestedValue(MAX_ANSWER_DEPTH)))).toEqual({
      ok: true,
      value: nestedValue(MAX_ANSWER_DEPTH),
    });
    expect(decodeAnswer(decoded(nestedValue(MAX_ANSWER_DEPTH + 1)))).toEqual(tooDeep);
    expect(decodeAnswer(decoded(nestedValue(200_000)))).toEqual(tooDeep);
  });

  it('accepts the deepest answer Condor accepts: predict_all, three levels of mixtures, every density wrapped', () => {
    let density: unknown = { prediction: { type: 'builtin', name: 'norm', params: { loc: 0, scale: 1 } } };
    for (let level = 0; level < 3; level++) {
      density = { prediction: { type: 'mixture', components: [{ density, weight: 1 }] } };
    }
    const text = JSON.stringify({ 60: Array.from({ length: 5 }, () => density) });
    const answer = decodeAnswer(raw(text));
    expect(answer).toMatchObject({ ok: true });
    const step = condor.predictShapes.predict_all!.pick(answer.ok ? answer.value : null, 60);
    expect(condor.validateOutput(step, { asset: 'BTC', horizon: 300, step: 60 }).ok).toBe(true);
    expect(jsonNestsDeeperThan(Buffer.from(text), 17)).toBe(false);
    expect(jsonNestsDeeperThan(Buffer.from(text), 16)).toBe(true);
  });
});

describe('jsonNestsDeeperThan', () => {
  const deeper = (text: string, limit: number) => jsonNestsDeeperThan(Buffer.from(text), limit);

  it('counts lists and objects, not scalars', () => {
    expect(deeper('0', 0)).toBe(false);
    expect(deeper('"text"', 0)).toBe(false);
    expect(deeper('[]', 0)).toBe(true);
    expect(deeper('[]', 1)).toBe(false);
    expect(deeper('[[], {}, [0], {"a": 1}]', 2)).toBe(false);
    expect(deeper('[[], {"a": [1]}]', 2)).toBe(true);
  });

  it('ignores brackets inside strings, escaped quotes and backslashes included', () => {
    expect(deeper(JSON.stringify(['[[[{{{', '\\"[[[', '\\', '"{{{{', '\\\\"[[[']), 1)).toBe(false);
    expect(deeper(JSON.stringify({ '[[[[': ']]]]{{{{' }), 1)).toBe(false);
    // Multi-byte UTF-8 beside the brackets changes nothing.
    expect(deeper(JSON.stringify([['é€😀', ['[']]]), 3)).toBe(false);
    expect(deeper(JSON.stringify([['é€😀', [['[']]]]), 3)).toBe(true);
  });
});

describe('valueNestsDeeperThan', () => {
  it('agrees with the text of the same value', () => {
    for (const value of [0, 'x', null, [], {}, [[], { a: [1, { b: [] }] }], nestedValue(10)]) {
      const text = JSON.stringify(value);
      for (let limit = 0; limit < 12; limit++) {
        expect(valueNestsDeeperThan(value, limit)).toBe(deeper(text, limit));
      }
    }
  });

  it('ends on a cycle', () => {
    const cycle: unknown[] = [];
    cycle.push({ again: cycle });
    expect(valueNestsDeeperThan(cycle, MAX_ANSWER_DEPTH)).toBe(true);
  });

  const deeper = (text: string, limit: number) => jsonNestsDeeperThan(Buffer.from(text), limit);
});

describe('boundedReason', () => {
  it('keeps short reasons and cuts a model-sized one to about 1 KiB, saying how long it was', () => {
    expect(boundedReason('the answer has no density')).toBe('the answer has no density');
    const cut = boundedReason('x'.repeat(1024 * 1024));
    expect(cut.length).toBeLessThan(1100);
    expect(cut).toMatch(/\[cut: 1048576 characters in all\]$/);
  });

  it('bounds a parse error that quotes an unparsable megabyte', () => {
    const answer = decodeAnswer(raw(`[${'y'.repeat(1024 * 1024)}`));
    expect(answer.ok).toBe(false);
    if (!answer.ok) expect(answer.reason.length).toBeLessThan(1100);
  });
});
