import { describe, expect, it } from 'vitest';
import { accessTier, presentedKey, sameKey, withoutApiKey } from './api-keys.js';

describe('API key tiers', () => {
  it('puts public prefixes first, then admin, the rest read', () => {
    expect(accessTier('/reports/checkpoints/rewards')).toBe('public');
    expect(accessTier('/reports/leaderboard')).toBe('public');
    expect(accessTier('/reports/models/:id')).toBe('public');
    expect(accessTier('/reports/checkpoints/:id/confirm')).toBe('admin');
    expect(accessTier('/reports/checkpoints/latest')).toBe('admin');
    expect(accessTier('/reports/checkpoints')).toBe('read');
    expect(accessTier('/reports/merkle/proof')).toBe('read');
    expect(accessTier('/reports/snapshots', { publicPrefixes: ['/reports/snapshots'] })).toBe('public');
    expect(accessTier('/reports/leaderboard', { publicPrefixes: [], adminPrefixes: ['/reports/'] })).toBe('admin');
  });

  it('takes the key from X-API-Key, then Authorization: Bearer, then ?api_key', () => {
    expect(presentedKey({ headers: { 'x-api-key': 'a', authorization: 'Bearer b' }, query: { api_key: 'c' } })).toBe(
      'a',
    );
    expect(presentedKey({ headers: { authorization: 'bearer  b ' }, query: { api_key: 'c' } })).toBe('b');
    expect(presentedKey({ headers: { authorization: 'Basic b' }, query: { api_key: 'c' } })).toBe('c');
    expect(presentedKey({ headers: {}, query: {} })).toBeUndefined();
  });

  it('compares keys whatever their lengths, and redacts them from URLs', () => {
    expect(sameKey('secret', 'secret')).toBe(true);
    expect(sameKey('secret', 'secret2')).toBe(false);
    expect(sameKey('', 'secret')).toBe(false);
    expect(withoutApiKey('/reports/x?a=1&api_key=s3cret&b=2')).toBe('/reports/x?a=1&api_key=[redacted]&b=2');
    expect(withoutApiKey('/reports/x?API_KEY=s3cret')).toBe('/reports/x?API_KEY=[redacted]');
  });
});
