/**
 * Is the connection alive? Silence for `idleMs` gets a PING; nothing at all for `timeoutMs`
 * after it means the connection is dead even if TCP has not noticed (a frozen server, a pulled
 * cable). One timer per connection, re-armed lazily rather than on every line.
 */
export interface LivenessSettings {
  idleMs: number;
  timeoutMs: number;
}

export class Liveness {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastReceivedAt = 0;
  private pingSentAt: number | null = null;

  constructor(
    private readonly settings: LivenessSettings | null,
    private readonly ping: (token: string) => void,
    private readonly dead: (reason: string) => void,
  ) {}

  start(): void {
    this.lastReceivedAt = Date.now();
    this.pingSentAt = null;
    this.check();
  }

  received(): void {
    this.lastReceivedAt = Date.now();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private check(): void {
    const settings = this.settings;
    if (!settings) return;
    const now = Date.now();
    let wait: number;
    if (this.pingSentAt !== null && this.lastReceivedAt < this.pingSentAt) {
      if (now - this.pingSentAt >= settings.timeoutMs) {
        this.dead(`no answer from the server for ${Math.round((now - this.lastReceivedAt) / 1000)} s`);
        return;
      }
      wait = settings.timeoutMs - (now - this.pingSentAt);
    } else if (now - this.lastReceivedAt >= settings.idleMs) {
      this.pingSentAt = now;
      this.ping(`parley-alive-${now}`);
      wait = settings.timeoutMs;
    } else {
      this.pingSentAt = null;
      wait = settings.idleMs - (now - this.lastReceivedAt);
    }
    this.timer = setTimeout(() => this.check(), wait);
  }
}
