/**
 * A running total read now and then (deliveries counted in several processes), turned into
 * per-second amounts by the time each reading was really taken. Counting "what arrived since
 * the last tick" per scheduled second goes wrong when a reading is late or stale: a slow answer
 * puts several seconds into one and leaves the last at 0.
 */
export class CumulativeCounter {
  private readonly at: number[] = [];
  private readonly total: number[] = [];

  /** A reading: `total` so far at `atMs` (any clock, the same for every reading). */
  add(atMs: number, total: number): void {
    const last = this.at.length - 1;
    // Readings come in time order; a total never goes down (a stale one is ignored).
    if (last >= 0 && (atMs < this.at[last]! || total < this.total[last]!)) return;
    this.at.push(atMs);
    this.total.push(total);
  }

  get readings(): number {
    return this.at.length;
  }

  /** The total at `atMs`, linear between the readings around it, flat beyond the first and last. */
  valueAt(atMs: number): number {
    const n = this.at.length;
    if (n === 0) return 0;
    if (atMs <= this.at[0]!) return this.total[0]!;
    if (atMs >= this.at[n - 1]!) return this.total[n - 1]!;
    let lo = 0;
    let hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (this.at[mid]! <= atMs) lo = mid;
      else hi = mid;
    }
    const span = this.at[hi]! - this.at[lo]!;
    const share = span === 0 ? 1 : (atMs - this.at[lo]!) / span;
    return this.total[lo]! + (this.total[hi]! - this.total[lo]!) * share;
  }

  /** How much the total grew from `fromMs` to `toMs`. */
  between(fromMs: number, toMs: number): number {
    return this.valueAt(toMs) - this.valueAt(fromMs);
  }

  /**
   * Growth in each second from `startMs` to `endMs` (the last one may be partial), rounded:
   * the rounded amounts add up to the rounded total.
   */
  perSecond(startMs: number, endMs: number): number[] {
    const out: number[] = [];
    let before = Math.round(this.valueAt(startMs));
    for (let t = startMs; t < endMs; t += 1000) {
      const after = Math.round(this.valueAt(Math.min(t + 1000, endMs)));
      out.push(after - before);
      before = after;
    }
    return out;
  }
}
