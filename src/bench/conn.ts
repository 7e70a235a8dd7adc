// One simulated user on TCP, TLS or WebSocket. Two modes, as in bench/lib/client.mjs:
// "parse" splits every line (registration, replies, timed messages), "count" only counts
// lines and relayed PRIVMSGs with byte searches, without building strings (cheap receivers).
import net from 'node:net';
import tls from 'node:tls';
import WebSocket from 'ws';

export interface Target {
  host: string;
  port: number;
  tls: boolean;
  ws: string | null;
}

const LF = 10;
const COLON = 58;
const SPACE = 32;
const MAX_CARRY = 16 * 1024;

type Waiter = { match: (command: string, params: string[], line: string) => boolean; resolve: (params: string[]) => void; reject: (err: Error) => void; timer: NodeJS.Timeout };

export class BenchConn {
  mode: 'parse' | 'count' = 'parse';
  /** Lines received, and relayed PRIVMSG lines among them. */
  lines = 0;
  privmsgs = 0;
  registered = false;
  closed = false;
  /** Closed by the other end (or an error) rather than by us. */
  dropped = false;
  error: string | null = null;
  /** Parse mode: every PRIVMSG, with its receive time (process.hrtime.bigint()). */
  onPrivmsg: ((source: string, text: string, nowNs: bigint) => void) | null = null;
  /** Parse mode: every line that is not a PRIVMSG nor a PING. */
  onLine: ((command: string, params: string[], line: string) => void) | null = null;
  onClose: ((conn: BenchConn) => void) | null = null;
  private partial = '';
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
    const t = this.target;
    if (t.ws !== null) {
      const ws = new WebSocket(t.ws, 'text.ircv3.net', { rejectUnauthorized: false, perMessageDeflate: false });
      this.ws = ws;
      ws.on('open', hello);
      ws.on('message', (data: Buffer) => {
        const buf = Buffer.concat([Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), Buffer.from('\n')]);
        this.data(buf);
      });
      ws.on('error', (err) => this.fail(err));
      ws.on('close', () => this.closedNow());
    } else {
      const socket = t.tls
        ? tls.connect({ host: t.host, port: t.port, rejectUnauthorized: false, servername: net.isIP(t.host) ? undefined : t.host })
        : net.connect({ host: t.host, port: t.port });
      this.socket = socket;
      socket.setNoDelay(true);
      socket.once(t.tls ? 'secureConnect' : 'connect', hello);
      socket.on('data', (buf: Buffer) => this.data(buf));
      socket.on('error', (err) => this.fail(err));
      socket.on('close', () => this.closedNow());
    }
    return registered.then(() => {
      this.registered = true;
    });
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

  /** Bytes queued locally and not yet handed to the kernel (a backlog guard for senders). */
  get pendingBytes(): number {
    return this.ws !== null ? this.ws.bufferedAmount : (this.socket?.writableLength ?? 0);
  }

  countOnly(): void {
    this.mode = 'count';
    this.carry = this.partial === '' ? null : Buffer.from(this.partial, 'latin1');
    this.partial = '';
  }

  resetCounters(): void {
    this.lines = 0;
    this.privmsgs = 0;
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

  private data(buf: Buffer): void {
    if (this.mode === 'count') this.count(buf);
    else this.parse(buf.toString('latin1', 0, buf.length));
  }

  private count(buf: Buffer): void {
    let i = 0;
    const n = buf.length;
    if (this.carry !== null) {
      const lf = buf.indexOf(LF);
      if (lf === -1) {
        if (this.carry.length < MAX_CARRY) this.carry = Buffer.concat([this.carry, buf]);
        return;
      }
      const line = Buffer.concat([this.carry, buf.subarray(0, lf)]);
      this.carry = null;
      this.countLine(line, 0, line.length);
      i = lf + 1;
    }
    while (i < n) {
      const lf = buf.indexOf(LF, i);
      if (lf === -1) {
        this.carry = Buffer.from(buf.subarray(i, n));
        break;
      }
      this.countLine(buf, i, lf);
      i = lf + 1;
    }
  }

  private countLine(buf: Buffer, start: number, end: number): void {
    this.lines++;
    if (start === end || buf[start] !== COLON) {
      const text = buf.toString('latin1', start, end).replace(/\r$/, '');
      if (text.startsWith('PING')) this.send(`PONG${text.slice(4)}`);
      else if (text.startsWith('ERROR')) this.error = text;
      return;
    }
    const space = buf.indexOf(SPACE, start);
    if (space !== -1 && space + 8 < end && buf.toString('latin1', space + 1, space + 9) === 'PRIVMSG ') this.privmsgs++;
  }

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
    if (line.charCodeAt(0) === 64) {
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
