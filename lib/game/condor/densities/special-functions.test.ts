import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { logBeta, logGamma, xLogY } from './special-functions.js';

/** ln(n!) from the exact integer (BigInt), rounded once to a double: a reference good to 1 ulp. */
function logFactorial(n: number): number {
  let product = 1n;
  for (let k = 2n; k <= BigInt(n); k++) product *= k;
  return Math.log(Number(product));
}

function expectRelative(actual: number, expected: number, tolerance: number): void {
  const scale = Math.max(1, Math.abs(expected));
  expect(Math.abs(actual - expected) / scale).toBeLessThanOrEqual(tolerance);
}

describe('logGamma', () => {
  it('matches ln((n-1)!) computed exactly, on both sides of the Lanczos/Stirling switch', () => {
    // Γ(n) = (n-1)!; the factorial is exact as a BigInt and rounded once, so the reference is within 1 ulp.
    for (const n of [1, 2, 3, 5, 9, 10, 11, 20, 50, 100, 170]) {
      expectRelative(logGamma(n), logFactorial(n - 1), 1e-14);
    }
  });

  it('matches the half-integer values Γ(n + 1/2) = (2n)! √π / (4^n n!)', () => {
    for (const n of [0, 1, 4, 9, 10, 30]) {
      const expected = logFactorial(2 * n) + 0.5 * Math.log(Math.PI) - n * Math.log(4) - logFactorial(n);
      expectRelative(logGamma(n + 0.5), expected, 1e-14);
    }
  });

  it('is 0 at 1 and 2 and ln √π at 1/2, within a few ulps', () => {
    expect(Math.abs(logGamma(1))).toBeLessThan(1e-14);
    expect(Math.abs(logGamma(2))).toBeLessThan(1e-14);
    expect(Math.abs(logGamma(0.5) - 0.5 * Math.log(Math.PI))).toBeLessThan(1e-14);
  });

  it('follows lnΓ(x+1) = lnΓ(x) + ln x for random x (catches a seam between the two formulas)', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-3, max: 1e4, noNaN: true }), (x) => {
        const difference = logGamma(x + 1) - logGamma(x);
        // Absolute error of each lnΓ is about 1e-16 · |lnΓ|, so the tolerance scales with it.
        const tolerance = 1e-13 * Math.max(1, Math.abs(logGamma(x)));
        return Math.abs(difference - Math.log(x)) <= tolerance;
      }),
    );
  });

  it('is NaN outside its domain instead of throwing', () => {
    expect(logGamma(0)).toBeNaN();
    expect(logGamma(-1.5)).toBeNaN();
    expect(logGamma(Number.NaN)).toBeNaN();
  });
});

describe('logBeta', () => {
  it('matches closed forms: B(1,1)=1, B(1/2,1/2)=π, B(2,3)=1/12, B(a,1)=1/a, B(a,2)=1/(a(a+1))', () => {
    expect(Math.abs(logBeta(1, 1))).toBeLessThan(1e-14);
    expectRelative(logBeta(0.5, 0.5), Math.log(Math.PI), 1e-14);
    expectRelative(logBeta(2, 3), -Math.log(12), 1e-14);
    // a large, b small: the mixed branch.
    for (const a of [10, 37.5, 1e3, 1e6, 1e12]) {
      expectRelative(logBeta(a, 1), -Math.log(a), 1e-14);
      expectRelative(logBeta(2, a), -Math.log(a) - Math.log(a + 1), 1e-14);
    }
  });

  it('matches B(n,n) = ((n-1)!)^2 / (2n-1)! for large n (both arguments in the Stirling branch)', () => {
    for (const n of [10, 20, 60, 85]) {
      const expected = 2 * logFactorial(n - 1) - logFactorial(2 * n - 1);
      expectRelative(logBeta(n, n), expected, 1e-13);
    }
  });

  it('is symmetric and follows B(a+1, b) = B(a, b) · a / (a + b)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-2, max: 1e5, noNaN: true }),
        fc.double({ min: 1e-2, max: 1e5, noNaN: true }),
        (a, b) => {
          const symmetric = logBeta(a, b) === logBeta(b, a);
          const recurrence = logBeta(a + 1, b) - (logBeta(a, b) + Math.log(a / (a + b)));
          const tolerance = 1e-12 * Math.max(1, Math.abs(logBeta(a, b)));
          return symmetric && Math.abs(recurrence) <= tolerance;
        },
      ),
    );
  });
});

describe('xLogY', () => {
  it('treats 0 · ln 0 as 0 so that y^0 = 1 at the support boundary', () => {
    expect(xLogY(0, 0)).toBe(0);
    expect(xLogY(2, 0)).toBe(Number.NEGATIVE_INFINITY);
    expect(xLogY(-0.5, 0)).toBe(Number.POSITIVE_INFINITY);
  });
});
