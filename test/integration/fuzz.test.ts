import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { COMMANDS } from '../../src/core/commands/index.js';
import type { Server } from '../../src/core/server.js';
import { createLogger } from '../../src/observability/logger.js';
import { foldCase } from '../../src/protocol/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const SEED = 0x5eed2026;
const TOTAL_LINES = 100_000;
const FUZZERS = 5;
const BATCH = 250;
/** Wall-clock bound for the whole run; the line count is asserted, so a slow run fails loudly. */
const DEADLINE_MS = 50_000;

/** mulberry32: a small seeded PRNG, so every run sends the same lines. */
function prng(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random IRC lines: valid commands with bad parameters, broken tags, huge lines, control bytes, invalid UTF-8. */
class LineGenerator {
  private readonly random: () => number;
  private readonly commands = [...COMMANDS.keys(), 'FOO', 'PRIVMSG', 'PRIVMSG', 'JOIN', 'MODE', '001', 'ERROR', 'BATCH', 'Privmsg'];
  private readonly atoms = [
    '#fuzz1', '#fuzz2', '#fuzz3', '#FUZZ1', '#', '##', '&local', '#fuzz1,#fuzz2,#fuzz3', ',,,', 'fz0', 'fz1', 'fz2', 'fz3', 'fz4',
    'pinger', 'NickServ', 'ChanServ', '*', '0', '-1', '4294967296', '999999999999999999999', '+o', '-o', '+b', '+kl', '+imnst',
    '-k', '+v', 'b', '*!*@*', '*@127.0.0.*', '127.0.0.0/8', ':', '', 'LS', '302', 'REQ', 'END', 'LIST', 'LATEST', 'BEFORE',
    'AROUND', 'BETWEEN', 'TARGETS', 'msgid=abc', 'timestamp=2020-01-01T00:00:00.000Z', 'timestamp=garbage', 'PLAIN',
    'SCRAM-SHA-256', '+', '=', 'k', 'd', 'u', '1h', 'REGISTER', 'IDENTIFY', 'DROP', 'INFO', 'GHOST', 'OP', 'é', '😀', '\u202e',
  ];
  private readonly valid = [
    () => `JOIN ${this.room()}`,
    () => `PART ${this.room()} :${this.text()}`,
    () => `PRIVMSG ${this.room()} :${this.text()}`,
    () => `NOTICE ${this.pick(['fz0', 'fz1', 'pinger', this.room()])} :${this.text()}`,
    () => `@+draft/reply=${this.word()};+typing=active TAGMSG ${this.room()}`,
    () => `MODE ${this.room()} ${this.pick(['+o', '-o', '+v', '+b', '-b', '+i', '-i', '+m', '+k', '-k', '+l', '-l', '+s', '+t'])} ${this.pick(['fz1', 'fz2', '*!*@*', 'key', '5'])}`,
    () => `TOPIC ${this.room()} :${this.text()}`,
    () => `NICK ${this.pick(['fz', 'Fz', 'guest', 'nick'])}${Math.floor(this.random() * 20)}`,
    () => `KICK ${this.room()} ${this.pick(['fz0', 'fz1', 'fz2', 'pinger'])} :${this.text()}`,
    () => `INVITE ${this.pick(['fz0', 'fz3', 'pinger'])} ${this.room()}`,
    () => `WHO ${this.pick(['*', 'fz*', this.room(), '*!*@*'])}`,
    () => `WHOIS ${this.pick(['fz0', 'pinger', 'nobody'])}`,
    () => this.pick(['LIST', 'NAMES #fuzz1', 'LUSERS', 'MOTD', 'AWAY :away', 'AWAY', 'SETNAME :Real Name', 'CAP LS 302', 'CAP REQ :multi-prefix', 'CAP END', 'STATS u']),
    () => `CHATHISTORY ${this.pick(['LATEST', 'BEFORE', 'AFTER', 'AROUND', 'BETWEEN', 'TARGETS'])} ${this.room()} ${this.pick(['*', 'timestamp=2020-01-01T00:00:00.000Z', 'msgid=x'])} ${this.pick(['10', '0', '-5', 'x'])}`,
    () => `MARKREAD ${this.room()} timestamp=${new Date(1_700_000_000_000 + Math.floor(this.random() * 1e10)).toISOString()}`,
    () => `PRIVMSG NickServ :${this.pick(['REGISTER', 'IDENTIFY', 'INFO', 'GHOST', 'HELP', 'SET PASSWORD'])} ${this.word()} ${this.word()}`,
    () => `PRIVMSG ChanServ :${this.pick(['REGISTER', 'DROP', 'OP', 'INFO', 'HELP'])} ${this.room()}`,
  ];

  constructor(seed: number) {
    this.random = prng(seed);
  }

  line(): Buffer {
    const r = this.random();
    let line: Buffer;
    if (r < 0.3) line = Buffer.from(this.pick(this.valid)());
    else if (r < 0.62) line = Buffer.from(this.command());
    else if (r < 0.7) line = Buffer.from(`${this.tags()} ${this.command()}`);
    else if (r < 0.82) line = this.mutate(Buffer.from(this.pick(this.valid)()));
    else if (r < 0.9) line = this.bytes(1 + Math.floor(this.random() * 200), 256);
    else if (r < 0.97) line = Buffer.concat([Buffer.from(`${this.pick(this.commands)} `), this.bytes(1 + Math.floor(this.random() * 40), 32), Buffer.from(' :x')]);
    else if (r < 0.99) line = Buffer.from(this.huge());
    else line = Buffer.from(`QUIT :${this.text()}`); // reconnects; keeps registration paths busy
    // LF ends a line: never inside one (CR, NUL and everything else may be).
    for (let i = 0; i < line.length; i++) if (line[i] === 10) line[i] = 11;
    return line;
  }

  private command(): string {
    const params = Array.from({ length: Math.floor(this.random() * 7) }, () => (this.random() < 0.7 ? this.pick(this.atoms) : this.word()));
    const trailing = this.random() < 0.5 ? ` :${this.text()}` : '';
    const filtered = params.filter((p) => p !== '' && !p.startsWith(':'));
    const command = this.pick(this.commands);
    return `${this.random() < 0.1 ? `:${this.word()} ` : ''}${command} ${filtered.join(' ')}${trailing}`;
  }

  private tags(): string {
    if (this.random() < 0.05) return `@+big=${'x'.repeat(4000 + Math.floor(this.random() * 6000))}`;
    const pieces = ['', '=', ';', '\\', '\\s', '\\:', '+', '+a', 'a=b', 'label=l1', 'batch=x', '+draft/reply=1', 'msgid=', '==', ';;'];
    return `@${Array.from({ length: 1 + Math.floor(this.random() * 5) }, () => this.pick(pieces) + this.pick(pieces)).join(';')}`;
  }

  private huge(): string {
    const size = 500 + Math.floor(this.random() * 9500);
    return `PRIVMSG ${this.room()} :${'h'.repeat(size)}`;
  }

  private mutate(line: Buffer): Buffer {
    const bytes = [...line];
    for (let i = Math.floor(this.random() * 4) + 1; i > 0; i--) {
      const at = Math.floor(this.random() * (bytes.length + 1));
      const op = this.random();
      if (op < 0.4) bytes.splice(at, 0, Math.floor(this.random() * 256));
      else if (op < 0.7) bytes.splice(at, 1);
      else bytes[at] = Math.floor(this.random() * 256);
    }
    return Buffer.from(bytes.filter((b) => b !== undefined));
  }

  private bytes(length: number, range: number): Buffer {
    return Buffer.from(Array.from({ length }, () => Math.floor(this.random() * range)));
  }

  private room(): string {
    return this.pick(['#fuzz1', '#fuzz2', '#fuzz3', '#Fuzz2', '#nowhere']);
  }

  private word(): string {
    const chars = 'abcdefghijklmnopqrstuvwxyz0123456789#@!*?:,.-_[]{}|\\^`+=/%é😀\x02\x03\x07';
    return Array.from({ length: Math.floor(this.random() * 12) }, () => this.pick([...chars])).join('');
  }

  private text(): string {
    return Array.from({ length: Math.floor(this.random() * 6) }, () => this.word()).join(' ');
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }
}

/** Every membership is known from both sides, by live sessions; the nick table matches. */
function assertConsistent(server: Server): void {
  for (const [key, room] of server.rooms) {
    assert.equal(room.key, key);
    assert.ok(room.members.size > 0, `empty room ${room.name} kept`);
    for (const member of room.members.keys()) {
      assert.ok(server.sessions.has(member), `${room.name} has a member that is gone (${member.nick})`);
      assert.ok(member.rooms.has(room), `${member.nick} is in ${room.name} but does not know it`);
    }
  }
  for (const session of server.sessions) {
    for (const room of session.rooms) {
      assert.equal(server.rooms.get(room.key), room, `${session.nick} is in a room the server forgot`);
      assert.ok(room.members.has(session));
    }
    if (session.registered) assert.equal(server.nicks.get(session.nickKey), session, `${session.nick} missing from the nick table`);
  }
  for (const [key, session] of server.nicks) {
    assert.ok(server.sessions.has(session), `nick ${key} held by a session that is gone`);
    assert.equal(session.nickKey, key);
    assert.equal(foldCase(session.nick), key);
  }
  for (const [account, sessions] of server.accounts.sessionsByAccount) {
    for (const session of sessions) {
      assert.ok(server.sessions.has(session), `account ${account} lists a session that is gone`);
      assert.equal(session.accountKey, account);
    }
  }
}

describe('fuzz: random and mutated lines from several connections', () => {
  const errors: string[] = [];
  let server: TestServer;
  before(async () => {
    const logger = createLogger('error', (line) => errors.push(line));
    // 127.0.0.1 is exempt from flood control (test helper), so every line reaches a handler.
    server = await startTestServer({ accounts: { scrypt_log_n: 10 } }, logger);
  });
  after(() => server.stop());

  it(`${TOTAL_LINES} lines: no handler throws, PING is answered throughout, state stays consistent`, { timeout: 120_000 }, async () => {
    const started = Date.now();
    const pinger = await RawClient.register(server.port, 'pinger');
    pinger.answerPings = true;
    pinger.send('JOIN #fuzz1,#fuzz2,#fuzz3');
    await pinger.sync();

    let sent = 0;
    let reconnects = 0;
    let done = false;
    const pings = (async () => {
      let count = 0;
      while (!done) {
        await pinger.sync();
        pinger.received.length = 0;
        count++;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return count;
    })();

    const fuzzer = async (index: number): Promise<void> => {
      const generator = new LineGenerator(SEED + index);
      const connect = async () => {
        const client = await RawClient.connect({ port: server.port });
        client.answerPings = true;
        if (index % 2 === 0) {
          client.send(`NICK fz${index}`);
          client.send(`USER fz${index} 0 * :fuzzer ${index}`);
        }
        return client;
      };
      let client = await connect();
      while (sent < TOTAL_LINES && Date.now() - started < DEADLINE_MS) {
        const lines = Array.from({ length: BATCH }, () => generator.line());
        client.sendRaw(Buffer.concat(lines.flatMap((line) => [line, Buffer.from('\r\n')])));
        sent += BATCH;
        try {
          await client.sync();
          client.received.length = 0;
          client.lines.length = 0;
        } catch {
          // A QUIT (or a fuzzed line that amounted to one) closed it: carry on from a new connection.
          client.close();
          client = await connect();
          reconnects++;
        }
      }
      client.close();
    };
    await Promise.all(Array.from({ length: FUZZERS }, (_, i) => fuzzer(i)));
    done = true;
    const pingRounds = await pings;

    assert.ok(sent >= TOTAL_LINES, `only ${sent} lines in ${DEADLINE_MS} ms`);
    assert.deepEqual(errors, [], 'no command failed with an internal error');
    assert.ok(pingRounds > 0, 'the well-behaved client was answered throughout');
    // The connections that closed are gone before the state is checked.
    await pinger.sync();
    assertConsistent(server.server);

    const newcomer = await RawClient.register(server.port, 'newcomer');
    newcomer.send('JOIN #fuzz1');
    await newcomer.expect((m) => m.command === '366');
    pinger.received.length = 0;
    newcomer.send('PRIVMSG #fuzz1 :the server is fine');
    await pinger.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'the server is fine');
    newcomer.close();
    pinger.close();
    console.log(`fuzz: ${sent} lines, ${reconnects} reconnects, ${pingRounds} PING rounds, ${Date.now() - started} ms`);
  });
});
