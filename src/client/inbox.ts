/**
 * A queue of incoming messages matching a predicate, for code that awaits a reply in the middle
 * of a conversation with the server (SASL, CAP, REGISTER). It buffers from the moment it is
 * made, so lines arriving together in one packet are never missed between two awaits.
 */
import type { IrcMessage } from '../protocol/index.js';

export class Inbox {
  private readonly queue: IrcMessage[] = [];
  private waiter: { resolve: (m: IrcMessage) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> } | null = null;
  private failure: Error | null = null;

  constructor(
    readonly matches: (message: IrcMessage) => boolean,
    private readonly onClose: (inbox: Inbox) => void,
  ) {}

  push(message: IrcMessage): void {
    if (this.waiter) {
      const { resolve, timer } = this.waiter;
      this.waiter = null;
      clearTimeout(timer);
      resolve(message);
    } else this.queue.push(message);
  }

  /** The next matching message; rejects on timeout or when the connection ends. */
  next(timeoutMs: number): Promise<IrcMessage> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new Error('no reply from the server in time'));
      }, timeoutMs);
      this.waiter = { resolve, reject, timer };
    });
  }

  /** Stop waiting: pending and later `next` calls reject with `error`. */
  fail(error: Error): void {
    this.failure = error;
    if (this.waiter) {
      clearTimeout(this.waiter.timer);
      this.waiter.reject(error);
      this.waiter = null;
    }
  }

  close(): void {
    this.fail(new Error('inbox closed'));
    this.onClose(this);
  }
}
