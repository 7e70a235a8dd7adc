import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { Connection } from '../core/connection.js';
import type { Server } from '../core/server.js';
import type { Session } from '../core/session.js';
import { afterCommits, scheduleFlush } from './flush.js';
import { PendingOutput } from './pending-output.js';

/**
 * IRC over WebSocket (IRCv3 websocket spec): one IRC line per WebSocket message, without CRLF.
 * `text.ircv3.net` sends text frames, `binary.ircv3.net` binary ones. Output is gathered per
 * event-loop turn like the TCP transport's and sent with the socket corked, so a burst still
 * becomes one write.
 */
export class WebSocketConnection implements Connection {
  readonly session: Session;
  readonly transport: 'ws' | 'wss';
  /** Output not yet sent: this turn's, and earlier turns' still waiting for their commit. */
  private readonly output = new PendingOutput();
  private scheduled = false;
  private closing = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Socket,
    readonly secure: boolean,
    readonly remoteAddress: string,
    private readonly binary: boolean,
    private readonly server: Server,
  ) {
    socket.setNoDelay(true);
    this.transport = secure ? 'wss' : 'ws';
    this.session = server.attach(this);
    ws.on('message', (data: Buffer) => this.onMessage(data));
    ws.on('error', () => {}); // 'close' follows.
    ws.on('close', () => server.connectionClosed(this.session, 'Connection closed'));
  }

  get queuedBytes(): number {
    return this.output.bytes + this.ws.bufferedAmount;
  }

  write(data: Buffer): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (!this.scheduled) {
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
    const chunks = this.output.take(upTo);
    if (chunks.length > 0 && this.ws.readyState === this.ws.OPEN) {
      this.socket.cork();
      let bytes = 0;
      for (const chunk of chunks) {
        this.sendLines(chunk);
        bytes += chunk.length;
      }
      this.socket.uncork();
      this.server.metrics.bytesOut(bytes);
    }
    if (this.closing && this.output.isEmpty) this.ws.close(1000);
  }

  discard(buffers: ReadonlySet<Buffer>): void {
    this.output.discard(buffers);
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
    if (this.output.isEmpty) this.ws.close(1000);
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }

  destroy(): void {
    // Output leaves here outside flushAll: what it carries must be in history first.
    this.ws.pause();
    afterCommits(() => {
      this.flush();
      this.ws.terminate();
    });
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
    this.server.metrics.bytesIn(data.length);
    // Clients may end the message with CRLF; the line itself is what counts.
    let end = data.length;
    while (end > 0 && (data[end - 1] === 10 || data[end - 1] === 13)) end--;
    if (end > 0) this.session.handleLine(data.subarray(0, end));
  }
}
