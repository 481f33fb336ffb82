import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apiTime, compareInstants, parseTimeParameter, TIME_PARAMETER_PATTERN, TimeParameterError } from './times.js';

const iso = (raw: string) => parseTimeParameter(raw, 'start').iso;

describe('parseTimeParameter', () => {
  it('reads what the CrunchDAO UI sends (Date.toISOString) and keeps it exact', () => {
    expect(iso('2025-06-15T12:00:00.123Z')).toBe('2025-06-15T12:00:00.123000Z');
  });

  it('keeps microseconds, which PostgreSQL stores and JavaScript dates would round away', () => {
    expect(iso('2025-06-15T12:00:00.123456Z')).toBe('2025-06-15T12:00:00.123456Z');
    // Beyond microseconds is cut, not rounded up into the next microsecond.
    expect(iso('2025-06-15T12:00:00.1234569Z')).toBe('2025-06-15T12:00:00.123456Z');
  });

  it('converts offsets to UTC and reads no offset as UTC', () => {
    expect(iso('2025-06-15T14:30:00+02:30')).toBe('2025-06-15T12:00:00.000000Z');
    expect(iso('2025-06-15T07:00:00-0500')).toBe('2025-06-15T12:00:00.000000Z');
    expect(iso('2025-06-15T13:00:00+01')).toBe('2025-06-15T12:00:00.000000Z');
    expect(iso('2025-06-15T12:00:00')).toBe('2025-06-15T12:00:00.000000Z');
    expect(iso('2025-06-15 12:00')).toBe('2025-06-15T12:00:00.000000Z');
    expect(iso('2025-06-16T00:30:00+12:30')).toBe('2025-06-15T12:00:00.000000Z');
  });

  it('reads a bare date as its midnight UTC', () => {
    expect(iso('2025-06-15')).toBe('2025-06-15T00:00:00.000000Z');
  });

  it('reads unix seconds, with fractions to the microsecond', () => {
    expect(iso('1750000000')).toBe('2025-06-15T15:06:40.000000Z');
    expect(iso('1750000000.000001')).toBe('2025-06-15T15:06:40.000001Z');
    expect(iso('0')).toBe('1970-01-01T00:00:00.000000Z');
  });

  it('refuses what is not a time, with a message naming the parameter and value', () => {
    for (const bad of [
      '',
      'yesterday',
      '2025-13-01',
      '2025-02-30',
      '2025-06-15T24:00:00Z',
      '2025-06-15T12:60Z',
      '-5',
      '1e9',
      '2025-06-15T12:00:00+25:00',
      'NaN',
    ]) {
      expect(() => parseTimeParameter(bad, 'end'), bad).toThrow(TimeParameterError);
    }
    expect(() => parseTimeParameter('soon', 'end')).toThrow(/^end=soon is not a time/);
  });

  it('reads written years 1970..9999 only, and keeps instants within them (an end beyond means the end)', () => {
    expect(() => parseTimeParameter('1969-12-31T23:59:59Z', 'start')).toThrow(/outside the years/);
    expect(() => parseTimeParameter('0070-01-01', 'start')).toThrow(/outside the years/);
    expect(iso('999999999999')).toBe('9999-12-31T23:59:59.999999Z');
    expect(iso('9999-12-31T23:00:00-05:00')).toBe('9999-12-31T23:59:59.999999Z');
    expect(iso('1970-01-01T00:30:00+01:00')).toBe('1970-01-01T00:00:00.000000Z');
  });

  it("accepts exactly what TIME_PARAMETER_PATTERN, the OpenAPI document's pattern, matches", () => {
    const pattern = new RegExp(TIME_PARAMETER_PATTERN, 'u');
    const digits = (min: number, max: number) =>
      fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
    const two = (max: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, '0'));
    const year = fc.oneof(
      fc.constantFrom('1969', '1970', '1972', '1900', '1904', '2000', '2024', '2100', '2400', '9999', '0070'),
      digits(4, 4),
    );
    const offset = fc.oneof(
      fc.constantFrom('', 'Z', 'z', 'UTC'),
      fc
        .tuple(fc.constantFrom('+', '-'), two(25), fc.constantFrom('', ':', '::'), fc.option(two(61)))
        .map(([sign, hours, colon, minutes]) => `${sign}${hours}${minutes === null ? '' : `${colon}${minutes}`}`),
    );
    const time = fc
      .tuple(
        fc.constantFrom('T', ' ', 't', '  '),
        two(25),
        two(61),
        fc.option(two(61)),
        fc.option(digits(0, 10)),
        offset,
      )
      .map(([sep, h, m, sec, fraction, zone]) => {
        const seconds = sec === null ? '' : `:${sec}${fraction === null ? '' : `.${fraction}`}`;
        return `${sep}${h}:${m}${seconds}${zone}`;
      });
    const isoText = fc
      .tuple(year, two(13), two(32), fc.option(time))
      .map(([y, mo, d, t]) => `${y}-${mo}-${d}${t ?? ''}`);
    const unix = fc
      .tuple(digits(1, 13), fc.option(digits(0, 7)))
      .map(([whole, fraction]) => (fraction === null ? whole : `${whole}.${fraction}`));
    const anything = fc.oneof(
      isoText,
      unix,
      fc.string(),
      isoText.map((t) => ` ${t}`),
      unix.map((t) => `${t}\n`),
    );
    fc.assert(
      fc.property(anything, (text) => {
        fc.pre(text !== '');
        let accepted = true;
        try {
          parseTimeParameter(text, 'start');
        } catch (error) {
          if (!(error instanceof TimeParameterError)) throw error;
          accepted = false;
        }
        expect(accepted, text).toBe(pattern.test(text));
      }),
      { numRuns: 5_000 },
    );
  });

  it('agrees with Date.parse on every millisecond instant it is given as ISO-8601', () => {
    const instants = fc.date({ min: new Date(0), max: new Date(Date.UTC(9999, 11, 31)), noInvalidDate: true });
    fc.assert(
      fc.property(instants, fc.integer({ min: -14 * 60, max: 14 * 60 }), (date, offsetMinutes) => {
        // The same instant written in a local time with that offset.
        const local = new Date(date.getTime() + offsetMinutes * 60_000).toISOString().slice(0, -1);
        const sign = offsetMinutes < 0 ? '-' : '+';
        const abs = Math.abs(offsetMinutes);
        const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
        const parsed = (() => {
          try {
            return parseTimeParameter(`${local}${offset}`, 'start');
          } catch (error) {
            // The local writing of an instant near the range ends can fall outside it.
            if (error instanceof TimeParameterError && /outside/.test(error.message)) return null;
            throw error;
          }
        })();
        if (parsed) expect(parsed.ms).toBe(date.getTime());
      }),
    );
  });
});

describe('apiTime and compareInstants', () => {
  it('prints UTC with an explicit offset and orders to the microsecond', () => {
    const a = parseTimeParameter('2025-06-15T12:00:00.000001Z', 'start');
    const b = parseTimeParameter('2025-06-15T12:00:00.000002Z', 'end');
    expect(apiTime(a)).toBe('2025-06-15T12:00:00.000001+00:00');
    expect(compareInstants(a, b)).toBeLessThan(0);
    expect(compareInstants(b, a)).toBeGreaterThan(0);
    expect(compareInstants(a, a)).toBe(0);
  });
});
