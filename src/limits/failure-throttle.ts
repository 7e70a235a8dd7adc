/**
 * Counts failures per key (an account, an address) in a sliding window; once a key reaches the
 * limit it is refused until its oldest failure leaves the window. The clock is injected so
 * tests control time.
 */
export class FailureThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until `key` may try again; 0 if it may try now. */
  retryAfter(key: string): number {
    const times = this.recent(key);
    if (times.length < this.maxFailures) return 0;
    return times[times.length - this.maxFailures]! + this.windowMs - this.now();
  }

  /** Count a failure (or an attempt not yet known to succeed); returns its time, for `forgive`. */
  recordFailure(key: string): number {
    const times = this.recent(key);
    const now = this.now();
    times.push(now);
    this.failures.set(key, times);
    return now;
  }

  /** Take back one failure recorded at `time`: the attempt it stood for succeeded. */
  forgive(key: string, time: number): void {
    const times = this.failures.get(key);
    const index = times?.indexOf(time) ?? -1;
    if (index === -1) return;
    times!.splice(index, 1);
    if (times!.length === 0) this.failures.delete(key);
  }

  reset(key: string): void {
    this.failures.delete(key);
  }

  /** Forget keys whose failures all left the window, so memory stays bounded by active abuse. */
  prune(): void {
    for (const key of this.failures.keys()) {
      if (this.recent(key).length === 0) this.failures.delete(key);
    }
  }

  private recent(key: string): number[] {
    const cutoff = this.now() - this.windowMs;
    const times = (this.failures.get(key) ?? []).filter((t) => t > cutoff);
    if (times.length === 0) this.failures.delete(key);
    return times;
  }
}
