/**
 * When the primary of `parley serve --workers` starts a dead worker again. Exponential
 * back-off, so a worker that dies at once (a port taken, the database refusing it) is not
 * forked in a tight loop; bounded, so a slot that keeps failing is given up with an error
 * instead of being retried for ever. A worker that stayed up for `windowMs` starts afresh.
 * Pure; times are passed in.
 */
export interface RestartPolicyOptions {
  /** Wait before the first restart. @default 500 */
  baseMs?: number;
  /** Longest wait. @default 10000 */
  maxMs?: number;
  /** Exits counted within this long of each other; a worker up this long resets its slot. @default 60000 */
  windowMs?: number;
  /** This many exits of one slot within windowMs: given up. @default 5 */
  maxExits?: number;
}

export class RestartPolicy {
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly windowMs: number;
  private readonly maxExits: number;
  /** Exit times of each slot within the window. */
  private readonly exits = new Map<number, number[]>();

  constructor(options: RestartPolicyOptions = {}) {
    this.baseMs = options.baseMs ?? 500;
    this.maxMs = options.maxMs ?? 10_000;
    this.windowMs = options.windowMs ?? 60_000;
    this.maxExits = options.maxExits ?? 5;
  }

  /**
   * The worker of `slot` exited at `now` after running `uptimeMs`: milliseconds to wait
   * before starting it again, or null to give the slot up.
   */
  exited(slot: number, now: number, uptimeMs: number): number | null {
    const recent = uptimeMs >= this.windowMs ? [] : (this.exits.get(slot) ?? []).filter((t) => now - t < this.windowMs);
    recent.push(now);
    this.exits.set(slot, recent);
    if (recent.length >= this.maxExits) return null;
    return Math.min(this.maxMs, this.baseMs * 2 ** (recent.length - 1));
  }

  /** How many exits within the window gave a slot up (for the error message). */
  get limit(): { exits: number; windowMs: number } {
    return { exits: this.maxExits, windowMs: this.windowMs };
  }
}
