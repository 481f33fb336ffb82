// What a model's recent results mean for its next call and whether it must be reported
// (docs/protocol.md#call-rules): the reference client's counters and cooldown, kept as one small state machine.

export interface CallPolicyLimits {
  /** FAILED results in a row tolerated; one more is reported. 0 disables. */
  maxConsecutiveFailures: number;
  /** TIMEOUT results in a row tolerated; one more is reported. 0 disables. */
  maxConsecutiveTimeouts: number;
}

export class CallPolicy {
  consecutiveFailures = 0;
  consecutiveTimeouts = 0;
  /**
   * Calls still to skip. 0 means "the next call is the real attempt between two cooldowns" and -1
   * "no cooldown running"; a fresh model starts at 0 as in the reference.
   */
  private cooldownRemaining = 0;

  constructor(private readonly limits: CallPolicyLimits) {}

  /**
   * Whether to skip this call (it then counts as a timeout). After timeouts the model rests for
   * ceil(consecutiveTimeouts / 2) calls, then gets one real attempt, then rests again.
   */
  shouldSkip(): boolean {
    if (this.cooldownRemaining > 0) {
      this.cooldownRemaining--;
      return true;
    }
    if (this.cooldownRemaining === 0) {
      this.cooldownRemaining = -1;
      return false;
    }
    if (this.consecutiveTimeouts > 0) {
      this.cooldownRemaining = Math.ceil(this.consecutiveTimeouts / 2) - 1;
      return true;
    }
    return false;
  }

  /** A SUCCESS clears both counters. */
  recordSuccess(): void {
    this.consecutiveFailures = 0;
    this.consecutiveTimeouts = 0;
  }

  /** Counts a FAILED result; true when the model must now be reported MULTIPLE_FAILED. */
  recordFailure(): boolean {
    this.consecutiveFailures++;
    const limit = this.limits.maxConsecutiveFailures;
    return limit > 0 && this.consecutiveFailures > limit;
  }

  /** Counts a TIMEOUT result; true when the model must now be reported MULTIPLE_TIMEOUT. */
  recordTimeout(): boolean {
    this.consecutiveTimeouts++;
    const limit = this.limits.maxConsecutiveTimeouts;
    return limit > 0 && this.consecutiveTimeouts > limit;
  }

  /** Whether the timeouts in a row are past the limit (the model must be reported MULTIPLE_TIMEOUT). */
  timeoutsOverLimit(): boolean {
    const limit = this.limits.maxConsecutiveTimeouts;
    return limit > 0 && this.consecutiveTimeouts > limit;
  }

  /** A reconnected model starts over, as the reference's new runner object does. */
  reset(): void {
    this.consecutiveFailures = 0;
    this.consecutiveTimeouts = 0;
    this.cooldownRemaining = 0;
  }
}
