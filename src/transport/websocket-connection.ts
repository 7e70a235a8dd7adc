import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { Connection } from '../core/connection.js';
import type { Server } from '../core/server.js';
import type { Session } from '../core/session.js';
import { runBeforeFlush, scheduleFlush } from './flush.js';

/**
 * IRC over WebSocket (IRCv3 websocket spec): one IRC line per WebSocket message, without CRLF.
 * `text.ircv3.net` sends text frames, `binary.ircv3.net` binary ones. Output is gathered per
 * event-loop turn like the TCP transport's and sent with the socket corked, so a burst still
 * becomes one write.
 */
export class WebSocketConnection implements Connection {
  readonly session: Session;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private closing = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Socket,
    readonly secure: boolean,
    readonly remoteAddress: string,
    private readonly binary: boolean,
    server: Server,
  ) {
    socket.setNoDelay(true);
    this.session = server.attach(this);
    ws.on('message', (data: Buffer) => this.onMessage(data));
    ws.on('error', () => {}); // 'close' follows.
    ws.on('close', () => server.connectionClosed(this.session, 'Connection closed'));
  }

  get queuedBytes(): number {
    return this.pendingBytes + this.ws.bufferedAmount;
  }

  write(data: Buffer): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.pending.length === 0) scheduleFlush(this);
    this.pending.push(data);
    this.pendingBytes += data.length;
  }

  flush(): void {
    const chunks = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    if (chunks.length > 0 && this.ws.readyState === this.ws.OPEN) {
      this.socket.cork();
      for (const chunk of chunks) this.sendLines(chunk);
      this.socket.uncork();
    }
    if (this.closing) this.ws.close(1000);
  }

  discard(buffers: ReadonlySet<Buffer>): void {
    // Left empty, a later write schedules this connection again: its second flush finds nothing.
    this.pending = this.pending.filter((chunk) => !buffers.has(chunk));
    this.pendingBytes = 0;
    for (const chunk of this.pending) this.pendingBytes += chunk.length;
  }

  pauseReading(): void {
    this.ws.pause();
  }

  resumeReading(): void {
    this.ws.resume();
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    if (this.pending.length === 0) this.ws.close(1000);
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }

  destroy(): void {
    runBeforeFlush();
    this.flush();
    this.ws.terminate();
  }

  /** A chunk holds one or more CRLF-terminated lines; each becomes its own message. */
  private sendLines(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      let end = chunk.indexOf(10, start);
      if (end === -1) end = chunk.length;
      const lineEnd = end > start && chunk[end - 1] === 13 ? end - 1 : end;
      const line = chunk.subarray(start, lineEnd);
      this.ws.send(this.binary ? line : line.toString('utf8'), { binary: this.binary });
      start = end + 1;
    }
  }

  private onMessage(data: Buffer): void {
    // Clients may end the message with CRLF; the line itself is what counts.
    let end = data.length;
    while (end > 0 && (data[end - 1] === 10 || data[end - 1] === 13)) end--;
    if (end > 0) this.session.handleLine(data.subarray(0, end));
  }
}
