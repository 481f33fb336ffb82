import { describe, expect, it } from 'vitest';
import { statementName } from './tracing.js';

describe('statementName', () => {
  it('names writes by verb and table, and other statements by verb', () => {
    expect(statementName('INSERT INTO predictions (model_id) VALUES ($1)')).toBe('INSERT predictions');
    expect(statementName('  -- why\n  update "models" SET name = $1')).toBe('UPDATE models');
    expect(statementName('WITH input AS (SELECT 1) INSERT INTO scores SELECT * FROM input')).toBe('INSERT scores');
    expect(statementName('DELETE FROM public.prices WHERE ts < $1')).toBe('DELETE public.prices');
    expect(statementName('SELECT 1')).toBe('SELECT');
    expect(statementName('WITH x AS (SELECT 1) SELECT * FROM x')).toBe('SELECT');
  });
});
