import { describe, expect, it } from 'vitest';
import { capModelText, MAX_MODEL_TEXT_CHARS } from './model-text.js';

describe('capModelText', () => {
  it('keeps a text up to the limit as it is', () => {
    const text = 'a'.repeat(MAX_MODEL_TEXT_CHARS);
    expect(capModelText(text)).toBe(text);
  });

  it('cuts a longer one and says how long it was', () => {
    const cut = capModelText('E'.repeat(1024 * 1024));
    expect(cut.startsWith('E'.repeat(MAX_MODEL_TEXT_CHARS))).toBe(true);
    expect(cut).toMatch(/… \[cut: 1048576 characters in all\]$/);
    expect(cut.length).toBeLessThan(MAX_MODEL_TEXT_CHARS + 50);
  });
});
