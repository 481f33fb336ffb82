import { describe, expect, it } from 'vitest';
import { databaseUrl, temporalOptions } from './derived.js';
import { readSettings, settingsHelp } from './settings.js';

describe('settings', () => {
  it('has a default for everything a local start needs', () => {
    const settings = readSettings({});
    expect(settings.TEMPORAL_ADDRESS).toBe('127.0.0.1:7233');
    expect(settings.SCORE_EVERY_SECONDS).toBe(300);
    expect(settings.PREDICT_TIMEOUT_SECONDS).toBeUndefined(); // the game's
    expect(settings.GATEWAY_PORT).toBe(8000);
    expect(databaseUrl(settings)).toBe('postgres://postgres@127.0.0.1:5432/coordinator');
    expect(temporalOptions(settings)).toEqual({ address: '127.0.0.1:7233', namespace: 'default' });
  });

  it('reads the environment, numbers included, and treats empty values as unset', () => {
    const settings = readSettings({ GATEWAY_PORT: '9000', DATABASE_URL: '', TEMPORAL_NAMESPACE: 'prod' });
    expect(settings.GATEWAY_PORT).toBe(9000);
    expect(settings.DATABASE_URL).toBeUndefined();
    expect(settings.TEMPORAL_NAMESPACE).toBe('prod');
  });

  it('names every bad value at once', () => {
    expect(() => readSettings({ GATEWAY_PORT: 'eighty', PREDICT_TIMEOUT_SECONDS: '-1' })).toThrow(
      /GATEWAY_PORT.*PREDICT_TIMEOUT_SECONDS|PREDICT_TIMEOUT_SECONDS.*GATEWAY_PORT/,
    );
  });

  it('documents every setting', () => {
    const help = settingsHelp();
    expect(help.find((s) => s.name === 'MARKET_DATA')?.default).not.toContain('synthetic');
    for (const setting of help) expect(setting.help.length).toBeGreaterThan(10);
  });

  it('builds mutual TLS options only when both files are given', () => {
    const settings = readSettings({ TEMPORAL_TLS_CERT: '/c.pem', TEMPORAL_TLS_KEY: '/k.pem' });
    expect(temporalOptions(settings).tls).toEqual({ certPath: '/c.pem', keyPath: '/k.pem' });
  });
});
