import type { Socket } from 'node:net';
import { MAX_LINE_BYTES, MAX_TAGS_BYTES } from '../protocol/index.js';
import type { Connection } from '../core/connection.js';
import { DisconnectReason } from '../core/errors.js';
import type { Server } from '../core/server.js';
import type { Session } from '../core/session.js';
import { afterCommits, scheduleFlush } from './flush.js';
import { PendingOutput } from './pending-output.js';

/** The longest incomplete line kept while waiting for its end: tags plus the 512-byte rest. */
const MAX_PENDING_LINE = MAX_TAGS_BYTES + 1 + MAX_LINE_BYTES;
/** How long a closing connection may take to drain before it is destroyed. */
const CLOSE_GRACE_MS = 2000;

/**
 * The SocketConnection a socket belongs to. The socket's listeners (the static methods below)
 * are shared by every connection and find their connection through this property: EventEmitter
 * calls a listener with the socket as `this`. A closure per listener per connection, and the
 * context it captures, would cost a few hundred bytes for each of the many idle connections a
 * server holds.
 */
const kConnection = Symbol('parley.connection');
type OwnedSocket = Socket & { [kConnection]: SocketConnection };

/** 'close' follows an 'error' and carries the outcome; the listener only keeps it from throwing. */
export function ignoreSocketError(): void {}

/**
 * A TCP or TLS socket as a Connection: bytes are framed into lines on the way in, and on the
 * way out writes are gathered and flushed once per event-loop turn (one syscall per client per
 * turn, however many messages it received).
 */
export class SocketConnection implements Connection {
  readonly session: Session;
  readonly transport: 'tcp' | 'tls';
  private partial: Buffer | null = null;
  /** After an over-long line, bytes are dropped until the next newline. */
  private discarding = false;
  /** Output not yet written: this turn's, and earlier turns' still waiting for their commit. */
  private readonly output = new PendingOutput();
  /** A flush of this turn is scheduled (transport/flush.ts). */
  private scheduled = false;
  /** socket.writableLength when the output not yet written began; see queuedBytes. */
  private socketQueued = 0;
  private closing = false;
  /** When the incomplete line now held began (slowloris: it must end in time); 0 if none. */
  private partialSince = 0;
  private partialTimer: NodeJS.Timeout | null = null;

  /**
   * `remoteAddress`: the client's address, from the socket or from a PROXY header.
   * `releaseOnClose`: the connection, not its acceptor, gives the address's admission back
   * (Server.release) when the socket closes, so a plain socket needs one 'close' listener.
   */
  constructor(
    private readonly socket: Socket,
    readonly secure: boolean,
    private readonly server: Server,
    readonly remoteAddress: string,
    private readonly releaseOnClose = false,
  ) {
    socket.setNoDelay(true);
    this.transport = secure ? 'tls' : 'tcp';
    this.session = server.attach(this);
    (socket as OwnedSocket)[kConnection] = this;
    socket.on('data', SocketConnection.onSocketData);
    // The acceptor has usually put one on already; a second would only cost memory.
    if (socket.listenerCount('error') === 0) socket.on('error', ignoreSocketError);
    socket.on('close', SocketConnection.onSocketClose);
  }

  private static onSocketData(this: OwnedSocket, chunk: Buffer): void {
    this[kConnection].onData(chunk);
  }

  private static onSocketClose(this: OwnedSocket, hadError: boolean): void {
    this[kConnection].onClose(hadError);
  }

  /**
   * Checked on every delivery (SendQ), so it must be cheap. The socket's own queue is read once,
   * at the turn's first write, instead of through the stream's getters each time: within a turn
   * nothing is added to it (flush comes at the end), and whatever libuv sends meanwhile only
   * makes that reading an upper bound.
   */
  get queuedBytes(): number {
    return this.output.isEmpty ? this.socket.writableLength : this.output.bytes + this.socketQueued;
  }

  write(data: Buffer): void {
    if (!this.scheduled) {
      // flush() drops what is gathered for a socket destroyed in the meantime.
      if (this.socket.destroyed) return;
      if (this.output.isEmpty) this.socketQueued = this.socket.writableLength;
      this.scheduled = true;
      scheduleFlush(this);
    }
    this.output.push(data);
  }

  endTurn(): number {
    this.scheduled = false;
    return this.output.end;
  }

  flush(upTo = Infinity): void {
    const bytes = this.output.bytes;
    const chunks = this.output.take(upTo);
    const written = bytes - this.output.bytes;
    // Nothing when everything gathered was taken back (discard, or withdrawn messages' empty bytes).
    if (written > 0 && !this.socket.destroyed) {
      this.socket.write(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, written));
      this.server.metrics.bytesOut(written);
    }
    if (this.closing && this.output.isEmpty) this.socket.end();
  }

  discard(buffers: ReadonlySet<Buffer>): void {
    this.output.discard(buffers);
  }

  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    if (!this.socket.isPaused()) return;
    // The client could not finish its line while we were not reading: its time starts again.
    if (this.partialSince !== 0) this.partialSince = Date.now();
    this.socket.resume();
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    // Paused (flood control, a busy command), the peer's FIN would never be read; what comes now is dropped.
    this.socket.resume();
    if (this.output.isEmpty) this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  destroy(): void {
    // Output leaves here outside flushAll: what it carries must be in history first.
    this.socket.pause();
    afterCommits(() => {
      this.flush();
      this.socket.destroy();
    });
  }

  private onClose(hadError: boolean): void {
    if (this.releaseOnClose) this.server.release(this.remoteAddress);
    this.server.connectionClosed(this.session, hadError ? 'Connection reset by peer' : 'Connection closed');
  }

  private onData(chunk: Buffer): void {
    this.server.metrics.bytesIn(chunk.length);
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
    if (start >= data.length) {
      this.partialSince = 0;
      return;
    }
    if (data.length - start > MAX_PENDING_LINE) {
      if (!this.discarding) this.session.lineTooLong();
      this.discarding = true;
    } else if (!this.discarding) {
      // Copy, so a large read buffer is not kept alive by a few trailing bytes.
      this.partial = Buffer.from(data.subarray(start));
    }
    this.watchPartial(start > 0 || this.partialSince === 0);
  }

  /**
   * An incomplete line must end within limits.incomplete_line_timeout_seconds of its first
   * byte, however slowly the bytes come. One timer at most per connection; it re-arms itself
   * for the line held when it fires instead of being reset on every read.
   */
  private watchPartial(newLine: boolean): void {
    if (newLine) this.partialSince = Date.now();
    if (this.partialTimer !== null) return;
    const timeout = this.server.config.limits.incomplete_line_timeout_seconds * 1000;
    const check = () => {
      this.partialTimer = null;
      if (this.partialSince === 0 || this.session.state === 'closing') return;
      const left = this.socket.isPaused() ? timeout : this.partialSince + timeout - Date.now();
      if (left <= 0) {
        this.server.disconnect(this.session, DisconnectReason.LineTimeout);
        return;
      }
      this.partialTimer = setTimeout(check, left).unref();
    };
    this.partialTimer = setTimeout(check, Math.max(0, this.partialSince + timeout - Date.now())).unref();
  }
}
