/**
 * REDACT (IRCv3 draft/message-redaction) over real sockets: who may redact (sender of record,
 * room operators, IRC operators), what others get (the cap's holders only), history in every
 * form (CHATHISTORY, JOIN replay), the FAIL codes, labeled-response and echo-message, and an
 * attacker's attempts: other people's messages, msgids of other rooms, made-up and overlong
 * msgids and reasons, a flood, a redaction the store cannot take.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hashPassword } from '../../src/auth/password.js';
import type { Session } from '../../src/core/session.js';
import type { IrcMessage } from '../../src/protocol/index.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { loginClient, registerAccount } from '../helpers/accounts.js';
import { dropSchema, pgAdmin, pgSkipReason, randomSchema, TEST_PG_URL } from '../helpers/postgres.js';
import { RawClient } from '../helpers/raw-client.js';
import { manualClock, startTestServer, type TestServer } from '../helpers/server.js';

const pgSkip = await pgSkipReason();
const CAP = 'draft/message-redaction';
const CAPS = ['echo-message', 'message-tags', 'server-time', 'batch', 'labeled-response', 'draft/chathistory', CAP];
const PASSWORD = 'redaction-test-pw';
const WINDOW = 3600;

const isRedact = (m: IrcMessage) => m.command === 'REDACT';
const redactOf = (msgid: string) => (m: IrcMessage) => isRedact(m) && m.params[1] === msgid;
const failOf = (got: IrcMessage[]) => got.find((m) => m.command === 'FAIL');

/** Sends a PRIVMSG and returns its msgid, from the echo. */
async function say(client: RawClient, target: string, text: string): Promise<string> {
  client.send(`PRIVMSG ${target} :${text}`);
  const echo = await client.expect((m) => m.command === 'PRIVMSG' && m.params[1] === text);
  return echo.tags!.msgid!;
}

/** The texts CHATHISTORY LATEST returns for `target` (up to 100). */
async function historyTexts(client: RawClient, target: string): Promise<string[]> {
  client.send(`CHATHISTORY LATEST ${target} * 100`);
  const got = await client.sync();
  assert.equal(failOf(got), undefined, JSON.stringify(failOf(got)));
  return got.filter((m) => m.command === 'PRIVMSG' && m.tags?.batch !== undefined).map((m) => m.params[1]!);
}

/** What `client` got up to a PING round trip: REDACT lines, and the FAIL if any. */
async function outcome(client: RawClient): Promise<{ redacts: IrcMessage[]; fail: IrcMessage | undefined; all: IrcMessage[] }> {
  const all = await client.sync();
  return { redacts: all.filter(isRedact), fail: failOf(all), all };
}

function sessionOf(server: TestServer, nick: string): Session {
  const session = [...server.server.sessions].find((s) => s.nick === nick);
  assert.ok(session, `no session ${nick}`);
  return session;
}

describe('REDACT (draft/message-redaction)', () => {
  const clock = manualClock();
  let server: TestServer;
  let store: SqliteStore;
  // op: created #r, so its operator; alice and bob: members with accounts and the cap;
  // carl: a member without account or cap; ivan: an IRC operator in no room.
  let op: RawClient, alice: RawClient, bob: RawClient, carl: RawClient, ivan: RawClient;
  const open: RawClient[] = [];
  const track = (c: RawClient) => (open.push(c), c);

  before(async () => {
    server = await startTestServer(
      { accounts: { scrypt_log_n: 10 }, opers: [{ name: 'admin', password_hash: await hashPassword('operpass', { N: 1024 }) }] },
      { clock: clock.now },
    );
    store = server.server.store as SqliteStore;
    for (const name of ['op', 'alice', 'bob', 'ivan']) await registerAccount(server.port, name, PASSWORD);
    op = track(await loginClient(server.port, 'op', 'op', PASSWORD, CAPS));
    alice = track(await loginClient(server.port, 'alice', 'alice', PASSWORD, CAPS));
    bob = track(await loginClient(server.port, 'bob', 'bob', PASSWORD, CAPS));
    carl = track(await RawClient.register(server.port, 'carl', ['echo-message', 'message-tags', 'server-time']));
    ivan = track(await loginClient(server.port, 'ivan', 'ivan', PASSWORD, CAPS));
    for (const c of [op, alice, bob, carl]) {
      c.send('JOIN #r');
      await c.expect((m) => m.command === '366');
    }
    ivan.send('OPER admin operpass');
    await ivan.expect((m) => m.command === '381');
    for (const c of [op, alice, bob, carl, ivan]) await c.sync();
  });
  after(async () => {
    for (const c of open) c.close();
    await server.stop();
  });

  it('advertises the cap', async () => {
    const c = track(await RawClient.connect({ port: server.port }));
    assert.ok((await c.capLs()).includes(CAP));
    c.close();
  });

  it('the sender redacts its own message: members with the cap are told, others not, and history drops it', async () => {
    const kept = await say(alice, '#r', 'kept line');
    const msgid = await say(alice, '#r', 'oops, wrong room');
    for (const c of [op, bob, carl]) await c.sync();
    alice.send(`REDACT #r ${msgid} :sent by mistake`);

    const echo = await alice.expect(redactOf(msgid));
    assert.deepEqual(echo.params, ['#r', msgid, 'sent by mistake']);
    assert.ok(echo.source!.startsWith('alice!'));
    assert.equal(echo.tags?.account, undefined, 'alice has no account-tag');
    for (const member of [op, bob]) {
      const { redacts } = await outcome(member);
      assert.deepEqual(redacts.map((m) => [m.source!.split('!')[0], ...m.params]), [['alice', '#r', msgid, 'sent by mistake']]);
    }
    assert.deepEqual((await outcome(carl)).redacts, [], 'no REDACT for a client without the cap');

    assert.deepEqual(await historyTexts(bob, '#r'), ['kept line']);
    assert.ok(await store.history.find('#r', kept));
    assert.equal(await store.history.find('#r', msgid), null);
    // JOIN replay (a client without draft/chathistory) no longer shows it either.
    const late = track(await RawClient.register(server.port, 'late', ['server-time']));
    late.send('JOIN #r');
    await late.expect((m) => m.command === '366');
    const replay = (await late.sync()).filter((m) => m.command === 'PRIVMSG').map((m) => m.params[1]);
    assert.deepEqual(replay, ['kept line']);
    late.send('PART #r');
    await late.sync();
  });

  it('a plain member cannot redact someone else’s message (REDACT_FORBIDDEN), and nothing is announced', async () => {
    const msgid = await say(alice, '#r', 'alice says this');
    await op.sync();
    bob.send(`REDACT #r ${msgid} :not yours`);
    const { fail, redacts } = await outcome(bob);
    assert.deepEqual(fail?.params.slice(0, 4), ['REDACT', 'REDACT_FORBIDDEN', '#r', msgid]);
    assert.deepEqual(redacts, []);
    assert.deepEqual((await outcome(op)).redacts, []);
    assert.ok(await store.history.find('#r', msgid), 'still in history');
  });

  it('the sender is the account of record, not the nick: a message sent without an account is for operators only', async () => {
    const msgid = await say(carl, '#r', 'carl, logged in to nothing');
    carl.send(`REDACT #r ${msgid}`);
    assert.deepEqual((await outcome(carl)).fail?.params.slice(0, 4), ['REDACT', 'REDACT_FORBIDDEN', '#r', msgid]);
    // Same nick on a new connection: no more a proof than before.
    carl.send('QUIT');
    await carl.closedByServer();
    carl = track(await RawClient.register(server.port, 'carl', ['echo-message', 'message-tags', 'server-time', CAP]));
    carl.send('JOIN #r');
    await carl.expect((m) => m.command === '366');
    carl.send(`REDACT #r ${msgid}`);
    assert.deepEqual((await outcome(carl)).fail?.params.slice(0, 2), ['REDACT', 'REDACT_FORBIDDEN']);
    assert.ok(await store.history.find('#r', msgid));
  });

  it('a room operator redacts anyone’s message in its room; the reason is optional', async () => {
    const msgid = await say(alice, '#r', 'spam spam spam');
    await bob.sync();
    op.send(`REDACT #r ${msgid}`);
    const echo = await op.expect(redactOf(msgid));
    assert.deepEqual(echo.params, ['#r', msgid]);
    const { redacts } = await outcome(alice);
    assert.deepEqual(redacts.map((m) => [m.source!.split('!')[0], ...m.params]), [['op', '#r', msgid]]);
    assert.equal((await outcome(bob)).redacts.length, 1);
    assert.equal(await store.history.find('#r', msgid), null);
  });

  it('an IRC operator redacts in a room it is not in; a plain non-member gets INVALID_TARGET', async () => {
    const msgid = await say(alice, '#r', 'seen by an oper');
    await bob.sync();
    const outsider = track(await loginClient(server.port, 'outsider', 'bob', PASSWORD, CAPS));
    outsider.send(`REDACT #r ${msgid}`);
    assert.deepEqual((await outcome(outsider)).fail?.params.slice(0, 3), ['REDACT', 'INVALID_TARGET', '#r']);
    outsider.close();

    ivan.send(`REDACT #r ${msgid} :moderation`);
    const echo = await ivan.expect(redactOf(msgid));
    assert.deepEqual(echo.params, ['#r', msgid, 'moderation']);
    assert.deepEqual((await outcome(bob)).redacts.map((m) => m.params), [['#r', msgid, 'moderation']]);
    assert.equal(await store.history.find('#r', msgid), null);
  });

  it('a msgid of another room, a made-up one, and one redacted already are UNKNOWN_MSGID', async () => {
    alice.send('JOIN #other');
    await alice.expect((m) => m.command === '366');
    const elsewhere = await say(alice, '#other', 'in another room');
    for (const msgid of [elsewhere, 'made-up-msgid', 'AAAAAAAAAAAAAAAA']) {
      alice.send(`REDACT #r ${msgid}`);
      assert.deepEqual((await outcome(alice)).fail?.params.slice(0, 4), ['REDACT', 'UNKNOWN_MSGID', '#r', msgid]);
    }
    assert.ok(await store.history.find('#other', elsewhere), 'the other room keeps it');

    const msgid = await say(alice, '#r', 'twice');
    alice.send(`REDACT #r ${msgid}`);
    await alice.expect(redactOf(msgid));
    alice.send(`REDACT #r ${msgid}`);
    const again = await outcome(alice);
    assert.deepEqual(again.fail?.params.slice(0, 4), ['REDACT', 'UNKNOWN_MSGID', '#r', msgid]);
    assert.deepEqual(again.redacts, []);
    assert.equal((await outcome(bob)).redacts.length, 1, 'announced once');
    alice.send('PART #other');
    await alice.sync();
  });

  it('an overlong or hostile msgid is UNKNOWN_MSGID without reaching the store, in a reply that fits its line', async () => {
    for (const msgid of ['x'.repeat(400), 'a%b', "1' OR '1'='1", '*']) {
      alice.send(`REDACT #r ${msgid}`);
      const { fail } = await outcome(alice);
      assert.deepEqual(fail?.params.slice(0, 3), ['REDACT', 'UNKNOWN_MSGID', '#r'], msgid);
      assert.ok(msgid.startsWith(fail!.params[3]!) && fail!.params[3]!.length <= 64);
    }
    const long = alice.lines.filter((l) => l.includes(' FAIL REDACT '));
    for (const line of long) assert.ok(Buffer.byteLength(line) + 2 <= 512, line);
  });

  it('bad targets are INVALID_TARGET: a room that does not exist, STATUSMSG, a nick without being logged in', async () => {
    const msgid = await say(alice, '#r', 'target tests');
    for (const target of ['#nosuchroom', '@#r', '+#r', '#' + 'x'.repeat(300)]) {
      alice.send(`REDACT ${target} ${msgid}`);
      const { fail } = await outcome(alice);
      assert.deepEqual(fail?.params.slice(0, 2), ['REDACT', 'INVALID_TARGET'], target);
    }
    carl.send(`REDACT bob ${msgid}`);
    assert.deepEqual((await outcome(carl)).fail?.params.slice(0, 3), ['REDACT', 'INVALID_TARGET', 'bob']);
    alice.send('REDACT');
    assert.equal((await alice.sync()).find((m) => m.command === '461')?.params[1], 'REDACT');
    assert.ok(await store.history.find('#r', msgid));
  });

  it('a reason longer than the line allows is cut at a character boundary; control characters are refused', async () => {
    const msgid = await say(alice, '#r', 'long reason');
    await bob.sync();
    const reason = 'é'.repeat(240); // 480 bytes: with the prefix, over 512
    alice.send(`REDACT #r ${msgid} :${reason}`);
    const echo = await alice.expect(redactOf(msgid));
    const { redacts } = await outcome(bob);
    const cut = echo.params[2]!;
    assert.ok(cut.length > 100 && cut.length < reason.length && reason.startsWith(cut), `cut to ${cut.length}`);
    assert.equal(redacts[0]?.params[2], cut, 'members get the same cut');
    const line = bob.lines.findLast((l) => l.includes(' REDACT '))!;
    assert.ok(Buffer.byteLength(line.replace(/^@\S+ /, '')) + 2 <= 512);

    const other = await say(alice, '#r', 'control chars');
    alice.send(`REDACT #r ${other} :bell\x07`);
    assert.deepEqual((await outcome(alice)).fail?.params.slice(0, 2), ['REDACT', 'INVALID_TEXT']);
    assert.ok(await store.history.find('#r', other));
  });

  it('labeled-response: the echo carries the label; without echo-message the reply is an ACK', async () => {
    const msgid = await say(alice, '#r', 'labeled one');
    alice.send(`@label=r1 REDACT #r ${msgid} :labeled`);
    const echo = await alice.expect(redactOf(msgid));
    assert.equal(echo.tags?.label, 'r1');

    const plain = track(await loginClient(server.port, 'plain', 'alice', PASSWORD, ['labeled-response', 'message-tags', CAP]));
    plain.send('JOIN #r');
    await plain.expect((m) => m.command === '366');
    plain.send('PRIVMSG #r :no echo for me');
    await plain.sync();
    const [mine] = (await store.history.latest('#r', 1));
    assert.equal(mine?.text, 'no echo for me');
    plain.send(`@label=r2 REDACT #r ${mine!.msgid}`);
    const ack = await plain.expect((m) => m.command === 'ACK' || isRedact(m) || m.command === 'FAIL');
    assert.equal(ack.command, 'ACK');
    assert.equal(ack.tags?.label, 'r2');
    assert.equal(await store.history.find('#r', mine!.msgid), null);
    plain.close();
  });

  it('direct messages: the sender redacts, the recipient is told, both histories drop it; the recipient may not', async () => {
    await op.sync();
    const msgid = await say(alice, 'bob', 'a private word');
    await bob.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'a private word');
    const fromBob = await say(bob, 'alice', 'a reply');
    await alice.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'a reply');

    // The conversation is the one with the target: alice's with herself does not hold it.
    alice.send(`REDACT alice ${fromBob}`);
    assert.deepEqual((await outcome(alice)).fail?.params.slice(0, 4), ['REDACT', 'UNKNOWN_MSGID', 'alice', fromBob]);
    alice.send(`REDACT bob ${fromBob}`);
    assert.deepEqual((await outcome(alice)).fail?.params.slice(0, 4), ['REDACT', 'REDACT_FORBIDDEN', 'bob', fromBob]);

    alice.send(`REDACT bob ${msgid} :private`);
    const echo = await alice.expect(redactOf(msgid));
    assert.deepEqual(echo.params, ['bob', msgid, 'private']);
    const { redacts } = await outcome(bob);
    assert.deepEqual(redacts.map((m) => [m.source!.split('!')[0], ...m.params]), [['alice', 'bob', msgid, 'private']]);
    assert.deepEqual(await historyTexts(bob, 'alice'), ['a reply']);
    assert.deepEqual(await historyTexts(alice, 'bob'), ['a reply']);
    assert.deepEqual((await outcome(op)).redacts, [], 'no one else is told');
  });

  it('a redaction the store cannot take is FAIL TEMPORARILY_UNAVAILABLE and announced to no one', async () => {
    const msgid = await say(alice, '#r', 'store will fail');
    await bob.sync();
    store.db.exec(`CREATE TEMP TRIGGER fail_redact BEFORE DELETE ON messages BEGIN SELECT RAISE(ABORT, 'injected: disk full'); END`);
    try {
      alice.send(`REDACT #r ${msgid}`);
      const mine = await outcome(alice);
      assert.deepEqual(mine.fail?.params.slice(0, 4), ['REDACT', 'TEMPORARILY_UNAVAILABLE', '#r', msgid]);
      assert.deepEqual(mine.redacts, []);
      assert.deepEqual((await outcome(bob)).redacts, []);
    } finally {
      store.db.exec('DROP TRIGGER temp.fail_redact');
    }
    assert.ok(await store.history.find('#r', msgid), 'still in history, as everyone was told');
    alice.send(`REDACT #r ${msgid}`);
    await alice.expect(redactOf(msgid));
    assert.equal((await outcome(bob)).redacts.length, 1, 'works again once the store does');
  });

  it('REDACT goes through flood control like any command', async () => {
    // From 127.0.0.2, which the test server does not exempt (test/helpers/server.ts).
    const c = track(await RawClient.register(server.port, 'flood2', [CAP], { localAddress: '127.0.0.2' }));
    c.send('JOIN #r');
    await c.expect((m) => m.command === '366');
    const burst = server.server.config.limits.command_burst;
    c.sendRaw(Array.from({ length: burst + 10 }, (_, i) => `REDACT #r nosuch${i}\r\n`).join(''));
    await c.expect((m) => m.command === 'FAIL' && m.params[3] === 'nosuch0');
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(sessionOf(server, 'flood2').backlog.length >= 10, 'lines over the burst wait for time to bring tokens');
    clock.advance(10_000);
    await c.expect((m) => m.command === 'FAIL' && m.params[3] === `nosuch${burst + 9}`);
    c.close();
  });

  // Last: the clock is moved past the window for every message sent before.
  it('past the window the sender gets REDACT_WINDOW_EXPIRED; a room operator still may', async () => {
    const msgid = await say(alice, '#r', 'an old message');
    // The manual clock started with the file, a little behind the messages' real times.
    clock.advance((WINDOW + 600) * 1000);
    alice.send(`REDACT #r ${msgid}`);
    assert.deepEqual((await outcome(alice)).fail?.params.slice(0, 5), ['REDACT', 'REDACT_WINDOW_EXPIRED', '#r', msgid, String(WINDOW)]);
    assert.ok(await store.history.find('#r', msgid));
    op.send(`REDACT #r ${msgid} :old spam`);
    await op.expect(redactOf(msgid));
    assert.equal(await store.history.find('#r', msgid), null);
  });
});

// The same rules on the asynchronous store: the look-up and the delete await PostgreSQL, and a
// delete it refuses (a trigger in the test's own schema) is announced to no one.
describe('REDACT on a PostgreSQL store', { skip: pgSkip }, () => {
  const schema = randomSchema('redact');
  let server: TestServer;
  let alice: RawClient, bob: RawClient;
  before(async () => {
    server = await startTestServer({ store: { url: TEST_PG_URL, schema }, accounts: { scrypt_log_n: 10 } });
    for (const name of ['alice', 'bob']) await registerAccount(server.port, name, PASSWORD);
    alice = await loginClient(server.port, 'alice', 'alice', PASSWORD, CAPS);
    bob = await loginClient(server.port, 'bob', 'bob', PASSWORD, CAPS);
    for (const c of [alice, bob]) {
      c.send('JOIN #pg');
      await c.expect((m) => m.command === '366');
    }
  });
  after(async () => {
    alice?.close();
    bob?.close();
    await server?.stop();
    await dropSchema(schema);
  });
  const stored = async (msgid: string) => (await pgAdmin(`SELECT count(*)::int AS n FROM ${schema}.messages WHERE msgid = $1`, [msgid]))[0]!.n as number;

  it('the sender redacts: the member is told, CHATHISTORY and the table no longer have it', async () => {
    await say(alice, '#pg', 'stays');
    const msgid = await say(alice, '#pg', 'goes');
    await bob.sync();
    alice.send(`@label=pg1 REDACT #pg ${msgid} :bye`);
    const echo = await alice.expect(redactOf(msgid));
    assert.equal(echo.tags?.label, 'pg1');
    assert.deepEqual((await outcome(bob)).redacts.map((m) => m.params), [['#pg', msgid, 'bye']]);
    assert.equal(await stored(msgid), 0);
    assert.deepEqual(await historyTexts(bob, '#pg'), ['stays']);
  });

  it('a delete PostgreSQL refuses is FAIL TEMPORARILY_UNAVAILABLE, announced to no one', async () => {
    const msgid = await say(alice, '#pg', 'refused delete');
    await bob.sync();
    await pgAdmin(`CREATE OR REPLACE FUNCTION ${schema}.fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected'; END $$;
                   CREATE TRIGGER fault BEFORE DELETE ON ${schema}.messages FOR EACH ROW EXECUTE FUNCTION ${schema}.fault()`);
    try {
      alice.send(`REDACT #pg ${msgid}`);
      const mine = await outcome(alice);
      assert.deepEqual(mine.fail?.params.slice(0, 4), ['REDACT', 'TEMPORARILY_UNAVAILABLE', '#pg', msgid]);
      assert.deepEqual(mine.redacts, []);
      assert.deepEqual((await outcome(bob)).redacts, []);
    } finally {
      await pgAdmin(`DROP TRIGGER IF EXISTS fault ON ${schema}.messages`);
    }
    assert.equal(await stored(msgid), 1);
  });
});
