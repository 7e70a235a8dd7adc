// Progress on stderr: a bar redrawn in place on a terminal, else a status line every 2 s.

export class Progress {
  private lastLine = 0;
  private drawn = false;

  constructor(
    private readonly enabled: boolean,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  /** `status` may be a function: it is only called when a line is drawn. */
  update(phase: string, fraction: number, statusOrFn: string | (() => string)): void {
    if (!this.enabled) return;
    const f = Math.max(0, Math.min(1, fraction));
    const now = Date.now();
    if (this.stream.isTTY) {
      // Redraw at most 10 times a second (and always at 100%).
      if (now - this.lastLine < 100 && f < 1) return;
      this.lastLine = now;
      const status = typeof statusOrFn === 'string' ? statusOrFn : statusOrFn();
      const width = 24;
      const full = Math.round(f * width);
      const bar = `[${'#'.repeat(full)}${' '.repeat(width - full)}]`;
      const line = `${phase.padEnd(8)} ${bar} ${String(Math.round(f * 100)).padStart(3)}%  ${status}`;
      const columns = this.stream.columns ?? 100;
      this.stream.write(`\r\x1b[2K${line.slice(0, columns - 1)}`);
      this.drawn = true;
      return;
    }
    if (now - this.lastLine < 2000) return;
    this.lastLine = now;
    const status = typeof statusOrFn === 'string' ? statusOrFn : statusOrFn();
    this.stream.write(`parley bench: ${phase} ${Math.round(f * 100)}% ${status}\n`);
  }

  note(text: string): void {
    if (!this.enabled) return;
    this.done();
    this.stream.write(`parley bench: ${text}\n`);
  }

  done(): void {
    if (this.drawn && this.stream.isTTY) this.stream.write('\r\x1b[2K');
    this.drawn = false;
  }
}
