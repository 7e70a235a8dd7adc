import type { Socket } from 'node:net';
import { MAX_LINE_BYTES, MAX_TAGS_BYTES } from '../protocol/index.js';
import type { Connection } from '../core/connection.js';
import type { Server } from '../core/server.js';
import type { Session } from '../core/session.js';
import { runBeforeFlush, scheduleFlush } from './flush.js';

/** The longest incomplete line kept while waiting for its end: tags plus the 512-byte rest. */
const MAX_PENDING_LINE = MAX_TAGS_BYTES + 1 + MAX_LINE_BYTES;
/** How long a closing connection may take to drain before it is destroyed. */
const CLOSE_GRACE_MS = 2000;

/**
 * A TCP or TLS socket as a Connection: bytes are framed into lines on the way in, and on the
 * way out writes are gathered and flushed once per event-loop turn (one syscall per client per
 * turn, however many messages it received).
 */
export class SocketConnection implements Connection {
  readonly session: Session;
  private partial: Buffer | null = null;
  /** After an over-long line, bytes are dropped until the next newline. */
  private discarding = false;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private closing = false;

  constructor(
    private readonly socket: Socket,
    readonly secure: boolean,
    server: Server,
  ) {
    socket.setNoDelay(true);
    this.session = server.attach(this);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {}); // 'close' follows and carries the outcome.
    socket.on('close', (hadError) => {
      server.connectionClosed(this.session, hadError ? 'Connection reset by peer' : 'Connection closed');
    });
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? '0.0.0.0';
  }

  get queuedBytes(): number {
    return this.pendingBytes + this.socket.writableLength;
  }

  write(data: Buffer): void {
    if (this.socket.destroyed) return;
    if (this.pending.length === 0) scheduleFlush(this);
    this.pending.push(data);
    this.pendingBytes += data.length;
  }

  flush(): void {
    const count = this.pending.length;
    if (count > 0 && !this.socket.destroyed) {
      this.socket.write(count === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes));
    }
    this.pending = [];
    this.pendingBytes = 0;
    if (this.closing) this.socket.end();
  }

  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    if (this.socket.isPaused()) this.socket.resume();
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    if (this.pending.length === 0) this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  destroy(): void {
    // Output leaves here outside flushAll: what it carries must be in history first.
    runBeforeFlush();
    this.flush();
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    let data = chunk;
    if (this.partial) {
      data = Buffer.concat([this.partial, chunk]);
      this.partial = null;
    }
    let start = 0;
    for (;;) {
      const newline = data.indexOf(10, start);
      if (newline === -1) break;
      const end = newline > start && data[newline - 1] === 13 ? newline - 1 : newline;
      if (this.discarding) this.discarding = false;
      else if (end > start) this.session.handleLine(data.subarray(start, end));
      start = newline + 1;
      if (this.session.state === 'closing') return;
    }
    if (start >= data.length) return;
    if (data.length - start > MAX_PENDING_LINE) {
      if (!this.discarding) this.session.lineTooLong();
      this.discarding = true;
    } else if (!this.discarding) {
      // Copy, so a large read buffer is not kept alive by a few trailing bytes.
      this.partial = Buffer.from(data.subarray(start));
    }
  }
}
