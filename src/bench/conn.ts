// One simulated IRC user on TCP, TLS or WebSocket: the only bench client. `parley bench`
// (src/bench/scenario-*.ts, worker.ts) uses it from here; the reference suite (bench/lib/swarm.mjs,
// fanout.mjs, fanout-worker.mjs) imports it compiled, from dist/bench/conn.js.
//
// Two modes. "parse" splits every line (registration, replies, timed messages). "count" only
// counts lines and relayed PRIVMSGs with byte searches, without building strings: cheap passive
// receivers, thousands per process. Plain TCP reads go through `onread` into one buffer shared by
// every socket of the process, so a read allocates nothing; TLS and WebSocket keep their
// 'data'/'message' events.
import net from 'node:net';
import tls from 'node:tls';
import WebSocket from 'ws';

export interface Target {
  host: string;
  port: number;
  /** Nodes of one network: connections go to each in turn. */
  ports?: number[];
  tls: boolean;
  ws: string | null;
}

/** Which of the target's ports the next connection of this process goes to. */
let nextPort = 0;

/** Plain TCP reads land here. Shared: a read is counted or decoded before the next one comes. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
const LF = 10;
const COLON = 58;
const SPACE = 32;
const AT = 64;
const P = 80;
const R = 82;
/** Longest partial line kept between reads in count mode. */
const MAX_CARRY = 16 * 1024;

type Waiter = { match: (command: string, params: string[], line: string) => boolean; resolve: (params: string[]) => void; reject: (err: Error) => void; timer: NodeJS.Timeout };

export class BenchConn {
  mode: 'parse' | 'count' = 'parse';
  /** Lines received, and relayed PRIVMSG lines among them (the rest: lines - privmsgs). */
  lines = 0;
  privmsgs = 0;
  registered = false;
  closed = false;
  /** Closed by the other end (or an error) rather than by us. */
  dropped = false;
  /** Why the connection failed or ended: the first socket error, or the server's ERROR line. */
  error: string | null = null;
  /** Parse mode: every PRIVMSG, with its receive time (process.hrtime.bigint()). */
  onPrivmsg: ((source: string, text: string, nowNs: bigint) => void) | null = null;
  /** Parse mode: every line that is not a PRIVMSG nor a PING. */
  onLine: ((command: string, params: string[], line: string) => void) | null = null;
  onClose: ((conn: BenchConn) => void) | null = null;
  /**
   * Count mode: if set, reading stops after each read and onPause(conn) is called; the owner
   * calls resume() later. A lazy reader gets fewer, larger reads for the same deliveries.
   */
  onPause: ((conn: BenchConn) => void) | null = null;
  private partial = '';
  /** Count mode: the start of a line cut by the end of the previous read. */
  private carry: Buffer | null = null;
  private waiters: Waiter[] = [];
  private socket: net.Socket | null = null;
  private ws: WebSocket | null = null;
  private destroyed = false;

  constructor(
    readonly target: Target,
    readonly nick: string,
  ) {}

  /** Connect and register (NICK/USER, optional CAP REQ); resolves on 001. */
  open(timeoutMs: number, caps: string[] = []): Promise<void> {
    const registered = this.waitFor((cmd) => cmd === '001', timeoutMs, 'registration');
    const hello = () => {
      if (caps.length > 0) this.send(`CAP REQ :${caps.join(' ')}`);
      this.send(`NICK ${this.nick}`);
      this.send(`USER ${this.nick} 0 * :parley bench`);
    };
    if (caps.length > 0) {
      this.waitFor((cmd, params) => cmd === 'CAP' && (params[1] === 'ACK' || params[1] === 'NAK'), timeoutMs, 'CAP').then(
        () => this.send('CAP END'),
        () => {},
      );
    }
    if (this.target.ws !== null) this.openWebSocket(this.target.ws, hello);
    else this.openSocket(hello);
    return registered.then(() => {
      this.registered = true;
    });
  }

  private openWebSocket(url: string, hello: () => void): void {
    const ws = new WebSocket(url, 'text.ircv3.net', { rejectUnauthorized: false, perMessageDeflate: false });
    this.ws = ws;
    ws.on('open', hello);
    ws.on('message', (data: Buffer) => {
      // One message is one line, without its line ending.
      const buf = Buffer.concat([Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), Buffer.from('\n')]);
      if (!this.read(buf, buf.length)) ws.pause();
    });
    ws.on('error', (err) => this.fail(err));
    ws.on('close', () => this.closedNow());
  }

  private openSocket(hello: () => void): void {
    const t = this.target;
    const port = t.ports && t.ports.length > 1 ? t.ports[nextPort++ % t.ports.length]! : t.port;
    let socket: net.Socket;
    if (t.tls) {
      socket = tls.connect({ host: t.host, port, rejectUnauthorized: false, servername: net.isIP(t.host) ? undefined : t.host });
      socket.on('data', (buf: Buffer) => {
        if (!this.read(buf, buf.length)) socket.pause();
      });
    } else {
      // Returning false from the callback pauses the socket until resume().
      socket = net.connect({ host: t.host, port, onread: { buffer: READ_BUFFER, callback: (n) => this.read(READ_BUFFER, n) } });
    }
    this.socket = socket;
    socket.setNoDelay(true);
    socket.once(t.tls ? 'secureConnect' : 'connect', hello);
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.closedNow());
  }

  /** JOIN and resolve at the end of NAMES (366). */
  join(room: string, timeoutMs: number): Promise<unknown> {
    const lower = room.toLowerCase();
    const done = this.waitFor((cmd, params) => cmd === '366' && params[1]?.toLowerCase() === lower, timeoutMs, `JOIN ${room}`);
    this.send(`JOIN ${room}`);
    return done;
  }

  send(line: string): void {
    if (this.closed) return;
    if (this.ws !== null) {
      if (this.ws.readyState === WebSocket.OPEN) this.ws.send(line);
    } else {
      this.socket?.write(`${line}\r\n`);
    }
  }

  /**
   * Several lines at once: one write on TCP/TLS, so a burst leaves in as few segments as it can;
   * one message per line on WebSocket.
   */
  sendLines(lines: readonly string[]): void {
    if (this.closed || lines.length === 0) return;
    if (this.ws !== null) for (const line of lines) this.send(line);
    else this.socket?.write(`${lines.join('\r\n')}\r\n`);
  }

  /** Bytes queued locally and not yet handed to the kernel (a backlog guard for senders). */
  get pendingBytes(): number {
    return this.ws !== null ? this.ws.bufferedAmount : (this.socket?.writableLength ?? 0);
  }

  /** Stop parsing, only count (counters keep running: resetCounters() starts them over). */
  countOnly(): void {
    this.mode = 'count';
    this.carry = this.partial === '' ? null : Buffer.from(this.partial, 'latin1');
    this.partial = '';
  }

  resetCounters(): void {
    this.lines = 0;
    this.privmsgs = 0;
  }

  /** Read again after onPause stopped it. */
  resume(): void {
    if (this.closed) return;
    if (this.ws !== null) this.ws.resume();
    else this.socket?.resume();
  }

  close(): void {
    this.destroyed = true;
    for (const w of this.waiters.splice(0)) clearTimeout(w.timer);
    if (this.ws !== null) this.ws.terminate();
    else this.socket?.destroy();
  }

  waitFor(match: Waiter['match'], timeoutMs: number, what: string): Promise<string[]> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new Error(this.error ?? 'connection closed'));
        return;
      }
      const waiter: Waiter = {
        match,
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.waiters.indexOf(waiter);
          if (i !== -1) this.waiters.splice(i, 1);
          reject(new Error(`${what}: no answer in ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  private fail(err: Error & { code?: string }): void {
    this.error ??= err.code ?? err.message;
  }

  private closedNow(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.destroyed) this.dropped = true;
    const why = this.error ?? 'connection closed by the server';
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new Error(why));
    }
    this.onClose?.(this);
  }

  /** buf[0, n) was received. Returns false to stop reading (see onPause). */
  private read(buf: Buffer, n: number): boolean {
    if (this.mode === 'parse') {
      this.parse(buf.toString('latin1', 0, n));
      return true;
    }
    this.count(buf, n);
    if (this.onPause === null) return true;
    this.onPause(this);
    return false;
  }

  // --- count mode ----------------------------------------------------------------------------

  /**
   * Count the lines in buf[0, n); a line cut by the end of the read is carried to the next one.
   * `buf` may be the shared read buffer, longer than n: a search result at or past n is "not found".
   */
  private count(buf: Buffer, n: number): void {
    let i = 0;
    let lines = 0;
    let privmsgs = 0;
    if (this.carry !== null) {
      const lf = buf.indexOf(LF);
      if (lf === -1 || lf >= n) {
        if (this.carry.length < MAX_CARRY) this.carry = Buffer.concat([this.carry, buf.subarray(0, n)]);
        return;
      }
      const line = Buffer.concat([this.carry, buf.subarray(0, lf)]);
      this.carry = null;
      lines++;
      if (this.isPrivmsg(line, 0, line.length)) privmsgs++;
      i = lf + 1;
    }
    while (i < n) {
      const lf = buf.indexOf(LF, i);
      if (lf === -1 || lf >= n) {
        this.carry = Buffer.from(buf.subarray(i, n)); // a copy: the read buffer is reused
        break;
      }
      lines++;
      if (this.isPrivmsg(buf, i, lf)) privmsgs++;
      i = lf + 1;
    }
    this.lines += lines;
    this.privmsgs += privmsgs;
  }

  /**
   * Is the line buf[start, end) a relayed PRIVMSG? A native search for the space after the
   * prefix, then two bytes: of the commands a server sends a client only PRIVMSG starts with
   * "PR" (comparing all of "PRIVMSG " costs the bench a measurable share of its CPU at 1M
   * lines/s). Only a line without a prefix (PING, ERROR) becomes a string. No message tags:
   * counting connections request no capabilities.
   */
  private isPrivmsg(buf: Buffer, start: number, end: number): boolean {
    if (start === end || buf[start] !== COLON) {
      this.unprefixedLine(buf.toString('latin1', start, end));
      return false;
    }
    const space = buf.indexOf(SPACE, start);
    return space !== -1 && space + 2 < end && buf[space + 1] === P && buf[space + 2] === R;
  }

  private unprefixedLine(raw: string): void {
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.startsWith('PING')) this.send(`PONG${text.slice(4)}`);
    else if (text.startsWith('ERROR')) this.error = text;
  }

  // --- parse mode ----------------------------------------------------------------------------

  private parse(text: string): void {
    const now = process.hrtime.bigint();
    const data = this.partial + text;
    let start = 0;
    for (;;) {
      const end = data.indexOf('\n', start);
      if (end === -1) break;
      const line = data.slice(start, data.charCodeAt(end - 1) === 13 ? end - 1 : end);
      start = end + 1;
      this.lines++;
      this.line(line, now);
    }
    this.partial = start < data.length ? data.slice(start) : '';
  }

  private line(raw: string, now: bigint): void {
    let line = raw;
    if (line.charCodeAt(0) === AT) {
      // Message tags: skipped.
      const space = line.indexOf(' ');
      line = space === -1 ? '' : line.slice(space + 1);
    }
    let source = '';
    let rest = line;
    if (line.charCodeAt(0) === COLON) {
      const space = line.indexOf(' ');
      if (space === -1) return;
      source = line.slice(1, space);
      rest = line.slice(space + 1);
    }
    const space = rest.indexOf(' ');
    const command = space === -1 ? rest : rest.slice(0, space);
    if (command === 'PRIVMSG') {
      this.privmsgs++;
      const colon = rest.indexOf(' :', space);
      this.onPrivmsg?.(source, colon === -1 ? '' : rest.slice(colon + 2), now);
      return;
    }
    if (command === 'PING') {
      this.send(`PONG${rest.slice(4)}`);
      return;
    }
    if (command === 'ERROR') this.error = line;
    // Nobody listens (a sampler during the load): no need to split the parameters.
    if (this.onLine === null && this.waiters.length === 0) return;
    const params = splitParams(space === -1 ? '' : rest.slice(space + 1));
    this.onLine?.(command, params, raw);
    if (this.waiters.length === 0) return;
    if (command === '433' || command === '432' || command === '465' || command === '471' || command === '473' || command === '474') {
      const err = new Error(line);
      for (const w of this.waiters.splice(0)) {
        clearTimeout(w.timer);
        w.reject(err);
      }
      return;
    }
    for (let i = 0; i < this.waiters.length; i++) {
      const w = this.waiters[i]!;
      if (w.match(command, params, raw)) {
        this.waiters.splice(i, 1);
        clearTimeout(w.timer);
        w.resolve(params);
        return;
      }
    }
  }
}

export function splitParams(text: string): string[] {
  const params: string[] = [];
  let rest = text;
  while (rest !== '') {
    if (rest.startsWith(':')) {
      params.push(rest.slice(1));
      break;
    }
    const space = rest.indexOf(' ');
    if (space === -1) {
      params.push(rest);
      break;
    }
    params.push(rest.slice(0, space));
    rest = rest.slice(space + 1).replace(/^ +/, '');
  }
  return params;
}

/** Open many connections, at most `concurrency` at a time; every attempt bounded by timeoutMs. */
export async function openMany(
  count: number,
  concurrency: number,
  make: (i: number) => Promise<BenchConn>,
  onDone?: (i: number, ok: boolean) => void,
): Promise<{ conns: (BenchConn | null)[]; errors: Map<string, number>; times: number[] }> {
  const conns: (BenchConn | null)[] = new Array(count).fill(null);
  const errors = new Map<string, number>();
  const times: number[] = [];
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      const started = performance.now();
      try {
        conns[i] = await make(i);
        times.push(performance.now() - started);
        onDone?.(i, true);
      } catch (err) {
        const why = (err instanceof Error ? err.message : String(err)).replace(/\d+ ms/, 'N ms').slice(0, 120);
        errors.set(why, (errors.get(why) ?? 0) + 1);
        onDone?.(i, false);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return { conns, errors, times };
}
