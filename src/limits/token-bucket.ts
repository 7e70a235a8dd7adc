/**
 * A token bucket: holds up to `capacity` tokens, refilled continuously at `perSecond`. Taking
 * a token is allowed while one is left, so a burst of `capacity` passes at once and then the
 * rate is `perSecond`. The clock is injected so tests control time.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly capacity: number,
    readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = capacity;
    this.last = now();
  }

  /** Take `cost` of a token (one by default) if a whole token is there. */
  take(cost = 1): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= cost;
    return true;
  }

  /** Give back a token taken for something that did not happen after all. */
  refund(): void {
    this.refill();
    this.tokens = Math.min(this.capacity, this.tokens + 1);
  }

  /** Milliseconds until a token is available; 0 if one is available now. */
  msUntilNext(): number {
    this.refill();
    if (this.tokens >= 1) return 0;
    // The epsilon keeps float error (0.998 tokens) from adding a millisecond.
    return Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.perSecond - 1e-6));
  }

  /** Refilled to capacity: a bucket in this state carries no information and can be forgotten. */
  get full(): boolean {
    this.refill();
    return this.tokens >= this.capacity;
  }

  private refill(): void {
    const now = this.now();
    const elapsed = now - this.last;
    this.last = now;
    // A clock that steps back (an injected one, or a wall-clock adjustment) adds nothing.
    if (elapsed > 0) this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.perSecond) / 1000);
  }
}

/**
 * One token bucket per key (an address). Keys whose bucket refilled completely are dropped by
 * `prune`, so memory is bounded by the keys active within one refill period.
 */
export class KeyedRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Take a token for `key`; false if its bucket is empty. */
  take(key: string): boolean {
    let bucket = this.buckets.get(key);
    if (!bucket) this.buckets.set(key, (bucket = new TokenBucket(this.capacity, this.perSecond, this.now)));
    return bucket.take();
  }

  refund(key: string): void {
    this.buckets.get(key)?.refund();
  }

  /** Milliseconds until `key` may take a token; 0 if it may now. */
  retryAfter(key: string): number {
    return this.buckets.get(key)?.msUntilNext() ?? 0;
  }

  prune(): void {
    for (const [key, bucket] of this.buckets) if (bucket.full) this.buckets.delete(key);
  }

  get size(): number {
    return this.buckets.size;
  }
}
