import { describe, expect, it } from 'vitest';
import { CallPolicy } from './call-policy.js';

/** Plays results through the policy: 'T' timeout, 'F' failure, 'S' success; returns what happened to each call. */
function play(policy: CallPolicy, outcomes: string): string {
  let log = '';
  let reported = false;
  for (const outcome of outcomes) {
    if (policy.shouldSkip()) {
      log += 's';
      reported = policy.recordTimeout() || reported;
      continue;
    }
    log += outcome;
    if (outcome === 'T') reported = policy.recordTimeout() || reported;
    if (outcome === 'F') reported = policy.recordFailure() || reported;
    if (outcome === 'S') policy.recordSuccess();
  }
  return reported ? `${log}!` : log;
}

describe('CallPolicy', () => {
  it('skips one call after a first timeout, then tries once', () => {
    const policy = new CallPolicy({ maxConsecutiveFailures: 0, maxConsecutiveTimeouts: 0 });
    // Each skip counts as a timeout, so the rests grow: ceil(2/2)=1... ceil(3/2)=2, ceil(6/2)=3.
    expect(play(policy, 'TTTTTTTTTTT')).toBe('TsTssTsssTs');
    expect(policy.consecutiveTimeouts).toBe(11);
  });

  it('reports the fourth timeout in a row with the default limit of 3 (skips included)', () => {
    const policy = new CallPolicy({ maxConsecutiveFailures: 3, maxConsecutiveTimeouts: 3 });
    expect(play(policy, 'TTT')).toBe('TsT');
    expect(play(policy, 'T')).toBe('s!');
  });

  it('a success clears the counters, and the next call is not skipped', () => {
    const policy = new CallPolicy({ maxConsecutiveFailures: 3, maxConsecutiveTimeouts: 3 });
    expect(play(policy, 'TTSSTTT')).toBe('TsSSTsT');
    expect(policy.consecutiveTimeouts).toBe(3);
  });

  it('reports the fourth failure in a row, and a success in between starts over', () => {
    const policy = new CallPolicy({ maxConsecutiveFailures: 3, maxConsecutiveTimeouts: 3 });
    expect(play(policy, 'FFFSFFF')).toBe('FFFSFFF');
    expect(play(policy, 'F')).toBe('F!');
  });

  it('failures and timeouts count separately', () => {
    const policy = new CallPolicy({ maxConsecutiveFailures: 3, maxConsecutiveTimeouts: 3 });
    play(policy, 'FFF');
    play(policy, 'TT');
    expect(policy.consecutiveFailures).toBe(3);
    expect(policy.consecutiveTimeouts).toBe(2);
  });

  it('limits of 0 never report', () => {
    const policy = new CallPolicy({ maxConsecutiveFailures: 0, maxConsecutiveTimeouts: 0 });
    expect(play(policy, 'FFFFFFFFFF')).not.toContain('!');
  });

  it('reset() forgets everything', () => {
    const policy = new CallPolicy({ maxConsecutiveFailures: 3, maxConsecutiveTimeouts: 3 });
    play(policy, 'TTTFF');
    policy.reset();
    expect(play(policy, 'S')).toBe('S');
    expect(policy.consecutiveFailures).toBe(0);
  });
});
