import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CappedLog } from './capped-log.js';

describe('CappedLog', () => {
  const dirs: string[] = [];
  const tempPath = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'capped-log-'));
    dirs.push(dir);
    return join(dir, 'sub', 'runner.log');
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('appends and tells listeners', () => {
    const path = tempPath();
    const log = new CappedLog(path, { maxBytes: 1000 });
    const seen: string[] = [];
    log.on('data', (text) => seen.push(text));
    log.write('one\n');
    log.write('two\n');
    log.close();
    expect(readFileSync(path, 'utf8')).toBe('one\ntwo\n');
    expect(seen).toEqual(['one\n', 'two\n']);
  });

  it('rotates at the cap into <path>.1 and says so in the new file', () => {
    const path = tempPath();
    const log = new CappedLog(path, { maxBytes: 300 });
    for (let i = 0; i < 20; i++) log.write(`line ${String(i).padStart(2, '0')} ${'x'.repeat(20)}\n`);
    log.close();
    const current = readFileSync(path, 'utf8');
    expect(current).toMatch(/log reached its cap of 300 bytes: the earlier part moved to .*runner\.log\.1/);
    expect(current).toContain('line 19');
    expect(Buffer.byteLength(current)).toBeLessThanOrEqual(300);
    expect(existsSync(`${path}.1`)).toBe(true);
    expect(readFileSync(`${path}.1`, 'utf8')).not.toContain('line 19');
  });

  it('keeps the end of a single write larger than the cap', () => {
    const path = tempPath();
    const log = new CappedLog(path, { maxBytes: 200 });
    log.write(`${'a'.repeat(1000)}END\n`);
    log.close();
    const current = readFileSync(path, 'utf8');
    expect(current.endsWith('END\n')).toBe(true);
    expect(Buffer.byteLength(current)).toBeLessThanOrEqual(200 + 150);
  });

  it('continues an existing file and counts its size', () => {
    const path = tempPath();
    const first = new CappedLog(path, { maxBytes: 100 });
    first.write('x'.repeat(90));
    first.close();
    const second = new CappedLog(path, { maxBytes: 100 });
    second.write('y'.repeat(20));
    second.close();
    expect(readFileSync(`${path}.1`, 'utf8')).toBe('x'.repeat(90));
  });

  it('refuses a cap that is not positive', () => {
    expect(() => new CappedLog(tempPath(), { maxBytes: 0 })).toThrow(/positive/);
  });
});
