// One benchmark IRC client on a loopback TCP socket.
//
// A client starts in "parse" mode: every line is split and looked at (registration, JOIN,
// PING, and the sampled receivers' latency). Passive receivers are switched to "count" mode
// once the room is set up: it counts lines and tells relayed messages (PRIVMSG) from anything
// else with native byte searches, without building strings. Reads go through `onread` into one
// buffer shared by every socket of the process, so a read allocates nothing.
import net from 'node:net';

const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
const LF = 10;
const COLON = 58;
const SPACE = 32;
const P = 80;
const R = 82;

/** Longest partial line kept between reads in count mode. */
const MAX_CARRY = 16 * 1024;

export class BenchClient {
  /**
   * @param {object} o
   * @param {number} o.port
   * @param {string} o.nick
   * @param {(client: BenchClient, source: string, text: string, nowNs: bigint) => void} [o.onPrivmsg]
   *   parse mode: called for every PRIVMSG, with the receive time (process.hrtime.bigint()).
   */
  constructor({ port, nick, onPrivmsg = null }) {
    this.port = port;
    this.nick = nick;
    this.onPrivmsg = onPrivmsg;
    this.mode = 'parse';
    /** Lines received, and those of them that are not a relayed PRIVMSG. */
    this.lines = 0;
    this.otherLines = 0;
    this.registered = false;
    this.closed = false;
    /** The ERROR line the server sent before closing, if any. */
    this.errorLine = null;
    this.socket = null;
    this.partial = '';
    /** Count mode: the start of a line cut by the end of the previous read. */
    this.carry = null;
    this.waiters = []; // { match(line) -> boolean, resolve, reject, timer }
    this.onClose = null;
    /** Count mode only: if set, reading pauses after each read and onPause(client) is called. */
    this.onPause = null;
  }

  /** Connect, register with NICK/USER and resolve once 001 arrives. */
  connect(timeoutMs) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({
        host: '127.0.0.1',
        port: this.port,
        noDelay: true,
        onread: { buffer: READ_BUFFER, callback: (n, buf) => this.onRead(n, buf) },
      });
      this.socket = socket;
      socket.on('error', (err) => {
        this.lastError = err.code ?? err.message;
      });
      socket.on('close', () => {
        this.closed = true;
        const why = this.errorLine ?? this.lastError ?? 'closed by server';
        for (const w of this.waiters.splice(0)) {
          clearTimeout(w.timer);
          w.reject(new Error(why));
        }
        this.onClose?.(this);
      });
      socket.once('connect', () => {
        socket.write(`NICK ${this.nick}\r\nUSER ${this.nick} 0 * :Parley bench\r\n`);
      });
      this.waitFor((cmd) => cmd === '001', timeoutMs, 'registration').then(() => {
        this.registered = true;
        resolve();
      }, reject);
    });
  }

  /** JOIN a room and resolve at the end of its NAMES reply (366). */
  join(room, timeoutMs) {
    const done = this.waitFor((cmd, params) => cmd === '366' && params[1]?.toLowerCase() === room.toLowerCase(), timeoutMs, `JOIN ${room}`);
    this.write(`JOIN ${room}\r\n`);
    return done;
  }

  write(text) {
    if (!this.closed) this.socket.write(text);
  }

  /** Passive receivers: stop parsing, only count. Counters restart from zero. */
  countOnly() {
    this.mode = 'count';
    this.carry = this.partial === '' ? null : Buffer.from(this.partial, 'latin1');
    this.partial = '';
    this.resetCounters();
  }

  resetCounters() {
    this.lines = 0;
    this.otherLines = 0;
  }

  destroy() {
    for (const w of this.waiters.splice(0)) clearTimeout(w.timer);
    this.socket?.destroy();
  }

  waitFor(match, timeoutMs, what) {
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve, reject, timer: null };
      waiter.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`${what}: no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  onRead(n, buf) {
    if (this.mode !== 'count') {
      this.parse(buf.latin1Slice(0, n));
      return true;
    }
    this.count(buf, n);
    if (this.onPause === null) return true;
    this.onPause(this);
    return false; // pauses the socket until resume()
  }

  resume() {
    if (!this.closed) this.socket.resume();
  }

  // --- count mode ----------------------------------------------------------------------------

  /**
   * Count lines and tell relayed messages (`:<prefix> PR...`, i.e. PRIVMSG) from the rest. Per
   * line: one native search for LF and one for the first space; no strings unless the line has
   * no prefix (PING, ERROR). A line cut by the end of a read is carried to the next one.
   * The buffer is shared and longer than `n`: every search result at or past `n` is "not found".
   */
  count(buf, n) {
    let i = 0;
    let lines = 0;
    let other = 0;
    if (this.carry !== null) {
      const lf = buf.indexOf(LF, 0);
      if (lf === -1 || lf >= n) {
        if (this.carry.length < MAX_CARRY) this.carry = Buffer.concat([this.carry, buf.subarray(0, n)]);
        return;
      }
      const line = Buffer.concat([this.carry, buf.subarray(0, lf)]);
      this.carry = null;
      lines++;
      if (!this.relayed(line, 0, line.length)) other++;
      i = lf + 1;
    }
    while (i < n) {
      const lf = buf.indexOf(LF, i);
      if (lf === -1 || lf >= n) {
        this.carry = Buffer.from(buf.subarray(i, n));
        break;
      }
      lines++;
      if (!this.relayed(buf, i, lf)) other++;
      i = lf + 1;
    }
    this.lines += lines;
    this.otherLines += other;
  }

  /** Is buf[start, end) a relayed PRIVMSG? Lines without a prefix are handled here too. */
  relayed(buf, start, end) {
    if (start === end || buf[start] !== COLON) {
      this.unprefixedLine(buf.latin1Slice(start, end));
      return false;
    }
    const space = buf.indexOf(SPACE, start);
    return space !== -1 && space + 2 < end && buf[space + 1] === P && buf[space + 2] === R;
  }

  unprefixedLine(line) {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (text.startsWith('PING')) this.write(`PONG${text.slice(4)}\r\n`);
    else if (text.startsWith('ERROR')) this.errorLine = text;
  }

  // --- parse mode ----------------------------------------------------------------------------

  parse(text) {
    const now = process.hrtime.bigint();
    let data = this.partial + text;
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

  line(line, now) {
    let source = '';
    let rest = line;
    if (line.charCodeAt(0) === COLON) {
      const space = line.indexOf(' ');
      if (space === -1) {
        this.otherLines++;
        return;
      }
      source = line.slice(1, space);
      rest = line.slice(space + 1);
    }
    const space = rest.indexOf(' ');
    const command = space === -1 ? rest : rest.slice(0, space);
    if (command === 'PRIVMSG') {
      const colon = rest.indexOf(' :', space);
      const body = colon === -1 ? '' : rest.slice(colon + 2);
      this.onPrivmsg?.(this, source, body, now);
      return;
    }
    this.otherLines++;
    if (command === 'PING') {
      this.write(`PONG${rest.slice(4)}\r\n`);
      return;
    }
    if (command === 'ERROR') this.errorLine = line;
    if (this.waiters.length === 0) return;
    const params = splitParams(space === -1 ? '' : rest.slice(space + 1));
    if (command === '433' || command === '432') {
      // Nick refused: registration cannot finish.
      for (const w of this.waiters.splice(0)) {
        clearTimeout(w.timer);
        w.reject(new Error(line));
      }
      return;
    }
    for (let i = 0; i < this.waiters.length; i++) {
      const w = this.waiters[i];
      if (w.match(command, params)) {
        this.waiters.splice(i, 1);
        clearTimeout(w.timer);
        w.resolve(params);
        return;
      }
    }
  }
}

/** IRC parameters: space separated, the last one may start with ':' and hold spaces. */
function splitParams(text) {
  const params = [];
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
    rest = rest.slice(space + 1);
  }
  return params;
}
