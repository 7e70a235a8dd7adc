/** Reconnect delays: exponential, bounded, with jitter so many clients do not return in step. */
export interface BackoffOptions {
  /** Delay before the first retry. @default 1000 */
  minDelayMs: number;
  /** Upper bound of any delay. @default 30000 */
  maxDelayMs: number;
  /** Give up after this many failed attempts in a row. @default Infinity */
  maxAttempts: number;
  /** Fraction of each delay that is random: 0.5 means between 50% and 100% of it. @default 0.5 */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { minDelayMs: 1000, maxDelayMs: 30_000, maxAttempts: Infinity, jitter: 0.5 };

/** Delay before attempt `attempt` (1-based): min * 2^(attempt-1), capped, minus up to `jitter` of it. */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const base = Math.min(options.maxDelayMs, options.minDelayMs * 2 ** exponent);
  return Math.round(base * (1 - options.jitter * random()));
}
