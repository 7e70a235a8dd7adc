const EMPTY = Buffer.alloc(0);

/**
 * One connection's output not yet handed to its socket, in order. Chunks are counted from the
 * connection's first write, so a position (`end`) stays valid while earlier chunks are taken:
 * the turn's flush may write only up to where that turn ended, once its messages are committed
 * (transport/flush.ts), while later output keeps gathering behind it.
 */
export class PendingOutput {
  private chunks: Buffer[] = [];
  /** Position of chunks[0] since the first write. */
  private first = 0;
  bytes = 0;

  get isEmpty(): boolean {
    return this.chunks.length === 0;
  }

  /** Where the output gathered so far ends. */
  get end(): number {
    return this.first + this.chunks.length;
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }

  /** Remove and return the chunks before position `upTo` (all of them by default). */
  take(upTo = Infinity): Buffer[] {
    const count = Math.min(this.chunks.length, upTo - this.first);
    if (count <= 0) return [];
    const taken = count === this.chunks.length ? this.chunks : this.chunks.slice(0, count);
    this.chunks = count === this.chunks.length ? [] : this.chunks.slice(count);
    this.first += count;
    for (const chunk of taken) this.bytes -= chunk.length;
    return taken;
  }

  /** Empty the chunks that are these very Buffers (identity), keeping every position as it was. */
  discard(buffers: ReadonlySet<Buffer>): void {
    for (let i = 0; i < this.chunks.length; i++) {
      const chunk = this.chunks[i]!;
      if (chunk.length === 0 || !buffers.has(chunk)) continue;
      this.bytes -= chunk.length;
      this.chunks[i] = EMPTY;
    }
  }
}
