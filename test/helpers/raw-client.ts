import net from 'node:net';
import tls from 'node:tls';
import { parseMessage, type IrcMessage } from '../../src/protocol/index.js';

export interface RawClientOptions {
  port: number;
  host?: string;
  tls?: boolean;
  /** Local address to connect from, e.g. 127.0.0.2 to be a different (loopback) client address. */
  localAddress?: string;
  /** TLS: options for tls.connect (ciphers, versions, servername...). */
  tlsOptions?: tls.ConnectionOptions;
}

/**
 * A line-level IRC client for tests where exact bytes matter. Incoming messages queue up;
 * `expect` waits for the first one matching and removes everything before it.
 */
export class RawClient {
  readonly received: IrcMessage[] = [];
  readonly lines: string[] = [];
  nick = '*';
  closed = false;
  /** Answer server PINGs automatically (for peers in tests where the server's own timers run). */
  answerPings = false;
  private buffer = '';
  private waiters: (() => void)[] = [];
  private syncCounter = 0;

  private constructor(readonly socket: net.Socket) {
    // Without this, Nagle plus delayed ACKs add ~40 ms to a send followed by sync().
    socket.setNoDelay(true);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let index: number;
      while ((index = this.buffer.indexOf('\r\n')) !== -1) {
        const line = this.buffer.slice(0, index);
        this.buffer = this.buffer.slice(index + 2);
        this.lines.push(line);
        const message = parseMessage(line);
        if (message?.command === 'PING' && this.answerPings) this.send(`PONG :${message.params[0] ?? ''}`);
        else if (message) this.received.push(message);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static connect(options: RawClientOptions): Promise<RawClient> {
    const host = options.host ?? '127.0.0.1';
    return new Promise((resolve, reject) => {
      const { localAddress } = options;
      const socket = options.tls
        ? tls.connect({ host, port: options.port, rejectUnauthorized: false, ...options.tlsOptions, ...(localAddress ? { localAddress } : {}) } as tls.ConnectionOptions, () =>
            resolve(new RawClient(socket)),
          )
        : net.connect({ host, port: options.port, localAddress }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Connect and register; `caps` are requested with CAP REQ first. */
  static async register(port: number, nick: string, caps: string[] = [], options: Partial<RawClientOptions> = {}): Promise<RawClient> {
    const client = await RawClient.connect({ port, ...options });
    if (caps.length > 0) {
      client.send('CAP LS 302');
      client.send(`CAP REQ :${caps.join(' ')}`);
      await client.expect((m) => m.command === 'CAP' && m.params[1] === 'ACK');
      client.send('CAP END');
    }
    client.send(`NICK ${nick}`);
    client.send(`USER ${nick} 0 * :${nick} Test`);
    await client.expect((m) => m.command === '001');
    await client.expect((m) => m.command === '376' || m.command === '422');
    client.nick = nick;
    return client;
  }

  send(line: string): void {
    this.socket.write(line + '\r\n');
  }

  sendRaw(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Wait for a message matching `predicate`; consume it and everything before it. */
  async expect(predicate: (m: IrcMessage) => boolean, timeoutMs = 5000): Promise<IrcMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.received.findIndex(predicate);
      if (index !== -1) return this.received.splice(0, index + 1)[index]!;
      if (this.closed) throw new Error(`connection closed while waiting; got: ${this.lines.slice(-5).join(' | ')}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting; last lines: ${this.lines.slice(-8).join(' | ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /**
   * CAP LS: every capability offered, gathered across the continuation lines (`CAP * LS * :...`)
   * a 302 reply splits into once it outgrows one line.
   */
  async capLs(version: '302' | '' = '302'): Promise<string[]> {
    this.send(version ? `CAP LS ${version}` : 'CAP LS');
    const caps: string[] = [];
    for (;;) {
      const line = await this.expect((m) => m.command === 'CAP' && m.params[1] === 'LS');
      caps.push(...line.params.at(-1)!.split(' ').filter(Boolean));
      if (line.params.length < 4 || line.params[2] !== '*') return caps;
    }
  }

  expectCommand(command: string, timeoutMs?: number): Promise<IrcMessage> {
    return this.expect((m) => m.command === command, timeoutMs);
  }

  /**
   * Round trip: everything the server sent before answering this PING has arrived. Returns
   * (and consumes) the messages that came before the PONG.
   */
  async sync(): Promise<IrcMessage[]> {
    const token = `sync-${++this.syncCounter}`;
    this.send(`PING ${token}`);
    const index = await this.indexOf((m) => m.command === 'PONG' && m.params[1] === token);
    return this.received.splice(0, index + 1).slice(0, index);
  }

  /** Wait for the server to close the connection. */
  async closedByServer(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private async indexOf(predicate: (m: IrcMessage) => boolean): Promise<number> {
    for (;;) {
      const index = this.received.findIndex(predicate);
      if (index !== -1) return index;
      if (this.closed) throw new Error('connection closed');
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
