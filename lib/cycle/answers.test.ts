import { describe, expect, it } from 'vitest';
import { type CallResult, VariantType } from '../model-runner/index.js';
import { decodeAnswer } from './answers.js';

const model = { modelId: 'm', deploymentId: 'm_1', name: 'm', cruncherId: 'c', cruncherName: 'c', ip: '::1', port: 1 };
const raw = (text: string): CallResult => ({
  model,
  status: 'SUCCESS',
  value: null,
  execTimeUs: 1,
  raw: { type: VariantType.JSON, value: Buffer.from(text) },
});

describe('decodeAnswer', () => {
  it('keeps the text of standard JSON as the model wrote it, beside its value', () => {
    const text = '[{"type": "builtin", "name": "norm", "params": {"loc": 0.0, "scale": 1e-05}}]';
    expect(decodeAnswer(raw(text))).toEqual({ ok: true, value: JSON.parse(text), json: text });
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
    expect(decodeAnswer({ model, status: 'SUCCESS', value: null, execTimeUs: 1 })).toEqual({ ok: true, value: null });
    expect(decodeAnswer({ model, status: 'SUCCESS', value: 'text', execTimeUs: 1 })).toEqual({
      ok: true,
      value: 'text',
    });
  });
});
