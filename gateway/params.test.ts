import { describe, expect, it } from 'vitest';
import {
  BadRequestError,
  checkModelId,
  mergeBracketedIds,
  PROJECT_IDS_VALUE_PATTERN,
  projectIdsOf,
  requiredProjectIds,
  timeRangeOf,
} from './params.js';

describe('projectIdsOf', () => {
  it('splits the comma-joined list the CrunchDAO UI sends', () => {
    expect(projectIdsOf({ projectIds: ['m1,m2,m3'] })).toEqual(['m1', 'm2', 'm3']);
  });

  it('takes repeated parameters, bracketed ones and mixtures, once each, in order first named', () => {
    const query: Record<string, unknown> = { projectIds: ['m2', 'm1,m2'], 'projectIds[]': ['m3', 'm1'] };
    mergeBracketedIds(query);
    expect(query).toEqual({ projectIds: ['m2', 'm1,m2', 'm3', 'm1'] });
    expect(projectIdsOf(query as { projectIds: string[] })).toEqual(['m2', 'm1', 'm3']);
    const single: Record<string, unknown> = { 'projectIds[]': 'm4' };
    mergeBracketedIds(single);
    expect(single).toEqual({ projectIds: ['m4'] });
  });

  it('drops blanks and spaces around ids', () => {
    expect(projectIdsOf({ projectIds: [' m1 , ,m2,', ''] })).toEqual(['m1', 'm2']);
    expect(projectIdsOf({})).toEqual([]);
  });

  it('states in one pattern how many ids a value may name and how long each may be', () => {
    const pattern = new RegExp(PROJECT_IDS_VALUE_PATTERN, 'u');
    const ids = (count: number, length = 3) => Array.from({ length: count }, (_, i) => `${i}`.padStart(length, 'm'));
    expect(pattern.test(ids(100).join(','))).toBe(true);
    expect(pattern.test(ids(101).join(','))).toBe(false);
    expect(pattern.test(ids(2, 200).join(','))).toBe(true);
    expect(pattern.test(ids(2, 201).join(','))).toBe(false);
    // Characters, not UTF-16 units, as JSON Schema counts: 200 emoji are one valid id.
    expect(pattern.test('😀'.repeat(200))).toBe(true);
    expect(pattern.test('a\u0000b')).toBe(false);
  });

  it('requires at least one id where a report needs it, saying both accepted forms', () => {
    expect(() => requiredProjectIds({ projectIds: [','] })).toThrow(/projectIds=a,b.*projectIds=a&projectIds=b/);
  });
});

describe('timeRangeOf', () => {
  const now = Date.UTC(2025, 5, 15, 12);

  it('defaults to the 7 days before now', () => {
    const range = timeRangeOf({}, now);
    expect(range.end.iso).toBe('2025-06-15T12:00:00.000000Z');
    expect(range.start.iso).toBe('2025-06-08T12:00:00.000000Z');
  });

  it('counts the default start back from a given end, and treats empty values as missing', () => {
    const range = timeRangeOf({ start: '', end: '2025-01-08T00:00:00Z' }, now);
    expect(range.start.iso).toBe('2025-01-01T00:00:00.000000Z');
  });

  it('takes a start after the end as an empty range, and refuses bad times as bad requests', () => {
    const range = timeRangeOf({ start: '2025-06-15T12:00:00.000002Z', end: '2025-06-15T12:00:00.000001Z' });
    expect(range.start.iso > range.end.iso).toBe(true);
    expect(() => timeRangeOf({ end: 'tomorrow' })).toThrow(BadRequestError);
  });

  it('accepts start equal to end (an inclusive instant)', () => {
    const range = timeRangeOf({ start: '1750000000', end: '2025-06-15T15:06:40Z' });
    expect(range.start.iso).toBe(range.end.iso);
  });
});

describe('checkModelId', () => {
  it('refuses NUL, which PostgreSQL text cannot hold, in ids from the path or projectIds', () => {
    expect(() => checkModelId('a\u0000b')).toThrow(/NUL/);
    expect(() => projectIdsOf({ projectIds: ['ok,bad\u0000'] })).toThrow(BadRequestError);
    expect(checkModelId('model-0001')).toBe('model-0001');
  });
});
