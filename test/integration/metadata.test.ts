// draft/metadata-2 (ircv3.net/specs/extensions/metadata) on one server, over real sockets:
// exact numerics and parameters, limits, hostile input, a failing store. Across nodes:
// test/cluster-core/metadata.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hashPassword } from '../../src/auth/password.js';
import type { IrcMessage } from '../../src/protocol/index.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { loginClient, registerAccount } from '../helpers/accounts.js';
import { RawClient } from '../helpers/raw-client.js';
import { manualClock, startTestServer, type TestServer } from '../helpers/server.js';

const CAPS = ['draft/metadata-2', 'batch'];
const PASSWORD = 'correct horse';

/** The replies to `line` up to a PING round trip, as [command, ...params], batch tags kept apart. */
async function ask(client: RawClient, line: string): Promise<string[][]> {
  client.send(line);
  return (await client.sync()).map((m: IrcMessage) => [m.command, ...m.params]);
}
/** The same without BATCH lines. */
async function askPlain(client: RawClient, line: string): Promise<string[][]> {
  return (await ask(client, line)).filter((l) => l[0] !== 'BATCH');
}

describe('METADATA (draft/metadata-2)', () => {
  let server: TestServer;
  const clock = manualClock();
  const clients: RawClient[] = [];
  /** Logged in to `account` (as nick `nick`, the account's name by default). */
  const login = async (account: string, caps = CAPS, nick = account) => {
    const c = await loginClient(server.port, nick, account, PASSWORD, caps);
    clients.push(c);
    return c;
  };
  const guest = async (nick: string, caps = CAPS) => {
    const c = await RawClient.register(server.port, nick, caps);
    clients.push(c);
    return c;
  };

  before(async () => {
    server = await startTestServer(
      { accounts: { scrypt_log_n: 10 }, opers: [{ name: 'admin', password_hash: await hashPassword('operpass', { N: 1024 }) }], limits: { metadata_max_keys: 3, metadata_max_subs: 4, metadata_max_value_bytes: 40, metadata_set_burst: 30 } },
      { clock: clock.now },
    );
    for (const name of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'oper1']) await registerAccount(server.port, name, PASSWORD);
  });
  after(async () => {
    for (const c of clients) c.close();
    await server.stop();
  });

  it('advertises the cap with before-connect and the configured limits', async () => {
    const c = await RawClient.connect({ port: server.port });
    clients.push(c);
    const caps = await c.capLs();
    assert.ok(caps.includes('draft/metadata-2=before-connect,max-subs=4,max-keys=3,max-value-bytes=40'), caps.join(' '));
  });

  it('SET, GET, LIST, removal and KEY_NOT_SET, with exact replies', async () => {
    const alice = await login('alice');
    assert.deepEqual(await ask(alice, 'METADATA * SET display-name :Alice Å'), [['761', 'alice', 'alice', 'display-name', '*', 'Alice Å']]);
    assert.deepEqual(await ask(alice, 'METADATA alice SET pronouns :she/her'), [['761', 'alice', 'alice', 'pronouns', '*', 'she/her']]);
    const get = await ask(alice, 'METADATA * GET pronouns avatar $bad display-name');
    assert.equal(get[0]![0], 'BATCH');
    assert.deepEqual(get[0]!.slice(2), ['metadata', 'alice']);
    assert.deepEqual(get.slice(1, -1), [
      ['761', 'alice', 'alice', 'pronouns', '*', 'she/her'],
      ['766', 'alice', 'alice', 'avatar', 'key not set'],
      ['FAIL', 'METADATA', 'KEY_INVALID', '$bad', 'invalid key'],
      ['761', 'alice', 'alice', 'display-name', '*', 'Alice Å'],
    ]);
    assert.equal(get.at(-1)![0], 'BATCH');
    assert.deepEqual(await askPlain(alice, 'METADATA * LIST'), [
      ['761', 'alice', 'alice', 'display-name', '*', 'Alice Å'],
      ['761', 'alice', 'alice', 'pronouns', '*', 'she/her'],
    ]);
    // Another user reads it too.
    const bob = await guest('bobguest');
    assert.deepEqual(await askPlain(bob, 'METADATA alice GET display-name'), [['761', 'bobguest', 'alice', 'display-name', '*', 'Alice Å']]);
    assert.deepEqual(await ask(alice, 'METADATA * SET pronouns'), [['766', 'alice', 'alice', 'pronouns', 'key not set']]);
    assert.deepEqual(await ask(alice, 'METADATA * SET pronouns'), [['FAIL', 'METADATA', 'KEY_NOT_SET', 'alice', 'pronouns', 'key not set']]);
    // The empty value is a value (spec: "The empty string is a valid value").
    assert.deepEqual(await ask(alice, 'METADATA * SET status :'), [['761', 'alice', 'alice', 'status', '*', '']]);
  });

  it('keeps metadata per account: a new connection of the account sees it in the registration burst', async () => {
    const first = await login('carol');
    await ask(first, 'METADATA * SET avatar :https://example.org/c.png');
    first.close();
    const again = await login('carol');
    // The burst came before 376: loginClient consumed up to it, so it is in `lines`.
    const burst = again.lines.filter((l) => / METADATA | BATCH /.test(l));
    assert.equal(burst.length, 3, burst.join('\n'));
    assert.match(burst[0]!, /BATCH \+\S+ metadata carol$/);
    assert.match(burst[1]!, /^@batch=\S+ :\S+ METADATA carol avatar \* :?https:\/\/example\.org\/c\.png$/);
    const motdEnd = again.lines.findIndex((l) => / (376|422) /.test(l));
    assert.ok(again.lines.findIndex((l) => / METADATA /.test(l)) < motdEnd);
  });

  it('a guest may read and subscribe but not set (KEY_NO_PERMISSION); it gets an empty burst', async () => {
    const g = await guest('guest1');
    const burst = g.lines.filter((l) => / BATCH /.test(l));
    assert.equal(burst.length, 2);
    assert.match(burst[0]!, /BATCH \+\S+ metadata guest1$/);
    assert.deepEqual(await ask(g, 'METADATA * SET display-name :G'), [['FAIL', 'METADATA', 'KEY_NO_PERMISSION', 'guest1', 'display-name', 'Log in to an account to keep metadata']]);
    assert.deepEqual(await ask(g, 'METADATA * SUB display-name'), [['770', 'guest1', 'display-name']]);
    assert.deepEqual(await ask(g, 'METADATA * CLEAR'), [['FAIL', 'METADATA', 'KEY_NO_PERMISSION', 'guest1', '*', 'Log in to an account to keep metadata']]);
  });

  it('refuses SET on another user (KEY_NO_PERMISSION), rooms (INVALID_TARGET), unknown nicks and subcommands', async () => {
    const dave = await login('dave');
    assert.deepEqual(await ask(dave, 'METADATA alice SET display-name :pwned'), [['FAIL', 'METADATA', 'KEY_NO_PERMISSION', 'alice', 'display-name', 'permission denied']]);
    assert.deepEqual(await ask(dave, 'METADATA #room SET url :x'), [['FAIL', 'METADATA', 'INVALID_TARGET', '#room', 'Parley keeps no room metadata']]);
    assert.deepEqual(await ask(dave, 'METADATA nobody-here GET avatar'), [['FAIL', 'METADATA', 'INVALID_TARGET', 'nobody-here', 'No such nick']]);
    assert.deepEqual(await ask(dave, 'METADATA * DESTROY'), [['FAIL', 'METADATA', 'SUBCOMMAND_INVALID', 'DESTROY', 'invalid subcommand']]);
    assert.deepEqual(await ask(dave, 'METADATA * SET'), [['461', 'dave', 'METADATA', 'Not enough parameters']]);
    const alice = await askPlain(dave, 'METADATA alice GET display-name');
    assert.deepEqual(alice, [['761', 'dave', 'alice', 'display-name', '*', 'Alice Å']]);
  });

  it('hostile keys and values: grammar, length, control characters, invalid UTF-8', async () => {
    const erin = await login('erin');
    for (const key of ['Upper', 'sp ace', 'é', 'a*b', 'x'.repeat(65)]) {
      assert.deepEqual(await ask(erin, `METADATA * SET ${key.includes(' ') ? key.replace(' ', '') + '$' : key} :v`).then((r) => r[0]![2]), 'KEY_INVALID', key);
    }
    assert.deepEqual(await ask(erin, 'METADATA * SET avatar :' + 'x'.repeat(41)), [['FAIL', 'METADATA', 'VALUE_INVALID', 'Value is too long (at most 40 bytes)']]);
    // 40 bytes exactly passes; 14 two-byte characters are 28 bytes.
    assert.deepEqual((await ask(erin, 'METADATA * SET avatar :' + 'x'.repeat(40)))[0]![0], '761');
    assert.deepEqual(await ask(erin, 'METADATA * SET status :bell\x07here'), [['FAIL', 'METADATA', 'VALUE_INVALID', 'Value contains control characters']]);
    assert.deepEqual(await ask(erin, 'METADATA * SET status :\x02bold'), [['FAIL', 'METADATA', 'VALUE_INVALID', 'Value contains control characters']]);
    erin.sendRaw(Buffer.concat([Buffer.from('METADATA * SET status :'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('\r\n')]));
    const refused = await erin.sync();
    assert.deepEqual(refused.map((m) => [m.command, ...m.params]), [['FAIL', 'METADATA', 'INVALID_UTF8', 'Message rejected: it contains invalid UTF-8']]);
    assert.deepEqual(await askPlain(erin, 'METADATA * GET status'), [['766', 'erin', 'erin', 'status', 'key not set']]);
  });

  it('LIMIT_REACHED past max-keys; replacing a key is still allowed', async () => {
    const frank = await login('frank');
    for (const key of ['a', 'b', 'c']) assert.equal((await ask(frank, `METADATA * SET ${key} :1`))[0]![0], '761');
    assert.deepEqual(await ask(frank, 'METADATA * SET d :1'), [['FAIL', 'METADATA', 'LIMIT_REACHED', 'frank', 'metadata limit reached (3 keys)']]);
    assert.equal((await ask(frank, 'METADATA * SET b :2'))[0]![0], '761');
    assert.deepEqual(await ask(frank, 'METADATA * CLEAR').then((r) => r.filter((l) => l[0] !== 'BATCH')), [
      ['766', 'frank', 'frank', 'a', 'key not set'],
      ['766', 'frank', 'frank', 'b', 'key not set'],
      ['766', 'frank', 'frank', 'c', 'key not set'],
    ]);
    assert.deepEqual(await askPlain(frank, 'METADATA * LIST'), []);
  });

  it('SUB/UNSUB/SUBS in order, TOO_MANY_SUBS names the first key refused', async () => {
    const c = await guest('subber');
    assert.deepEqual(await ask(c, 'METADATA * SUB avatar $x avatar status'), [['770', 'subber', 'avatar', 'status'], ['FAIL', 'METADATA', 'KEY_INVALID', '$x', 'invalid key']]);
    assert.deepEqual(await ask(c, 'METADATA * SUB a b c d'), [['770', 'subber', 'a', 'b'], ['FAIL', 'METADATA', 'TOO_MANY_SUBS', 'c', 'too many subscriptions']]);
    // Already subscribed keys are fine even at the limit.
    assert.deepEqual(await ask(c, 'METADATA * SUB status'), [['770', 'subber', 'status']]);
    const subs = await ask(c, 'METADATA * SUBS');
    assert.deepEqual(subs[0]!.slice(2), ['metadata-subs']);
    assert.deepEqual(subs.slice(1, -1), [['772', 'subber', 'a', 'avatar', 'b', 'status']]);
    assert.deepEqual(await ask(c, 'METADATA * UNSUB b a never'), [['771', 'subber', 'b', 'a', 'never']]);
    assert.deepEqual((await ask(c, 'METADATA * SUBS')).slice(1, -1), [['772', 'subber', 'avatar', 'status']]);
  });

  it('before-connect: SUB and SET before registration (logged in with SASL), shown in the burst', async () => {
    const c = await RawClient.connect({ port: server.port });
    clients.push(c);
    c.send('CAP LS 302');
    c.send('CAP REQ :sasl draft/metadata-2 batch');
    await c.expect((m) => m.command === 'CAP' && m.params[1] === 'ACK');
    assert.deepEqual(await ask(c, 'METADATA * SUB display-name'), [['770', '*', 'display-name']]);
    assert.deepEqual(await ask(c, 'METADATA bob SET display-name :x'), [['FAIL', 'METADATA', 'KEY_NO_PERMISSION', 'bob', 'display-name', 'Before registration only * (yourself) may be the target']]);
    c.send('AUTHENTICATE PLAIN');
    await c.expect((m) => m.command === 'AUTHENTICATE');
    c.send(`AUTHENTICATE ${Buffer.from(`bob\0bob\0${PASSWORD}`).toString('base64')}`);
    await c.expect((m) => m.command === '903');
    assert.deepEqual(await ask(c, 'METADATA * SET display-name :a b c'), [['761', '*', '*', 'display-name', '*', 'a b c']]);
    c.send('NICK bob');
    c.send('USER bob 0 * :bob');
    c.send('CAP END');
    await c.expect((m) => m.command === '001');
    const inBurst = await c.expect((m) => m.command === 'METADATA');
    assert.deepEqual(inBurst.params, ['bob', 'display-name', '*', 'a b c']);
    await c.expect((m) => m.command === '376' || m.command === '422');
    assert.deepEqual(await askPlain(c, 'METADATA * LIST'), [['761', 'bob', 'bob', 'display-name', '*', 'a b c']]);
  });

  it('notifies subscribers in a shared room and on MONITOR, not the setter nor the unsubscribed; JOIN sends a batch', async () => {
    const alice = await login('alice', [...CAPS, 'message-tags'], 'alicia');
    const watcher = await guest('watcher');
    const roomie = await guest('roomie');
    const deaf = await guest('deaf');
    const stranger = await guest('stranger');
    await ask(watcher, 'METADATA * SUB status');
    await ask(roomie, 'METADATA * SUB status display-name');
    await ask(stranger, 'METADATA * SUB status');
    await ask(watcher, 'MONITOR + alicia');
    await ask(alice, 'JOIN #meta');
    for (const c of [roomie, deaf]) c.send('JOIN #meta');
    // The joiner subscribed to display-name gets the members' metadata at JOIN.
    const joinBatch = await roomie.expect((m) => m.command === 'METADATA');
    assert.deepEqual(joinBatch.params, ['alicia', 'display-name', '*', 'Alice Å']);
    assert.ok(joinBatch.tags?.batch);
    await Promise.all([roomie.sync(), deaf.sync()]);
    await ask(alice, 'METADATA * SET status :away for lunch');
    for (const c of [watcher, roomie]) {
      const n = await c.expect((m) => m.command === 'METADATA');
      assert.deepEqual(n.params, ['alicia', 'status', '*', 'away for lunch']);
    }
    await ask(alice, 'METADATA * SET status');
    const removed = await roomie.expect((m) => m.command === 'METADATA');
    assert.deepEqual(removed.params, ['alicia', 'status', '*']);
    for (const c of [deaf, stranger, alice]) assert.equal((await c.sync()).filter((m) => m.command === 'METADATA').length, 0);
    // A second connection of the same account hears of it under its own nick.
    const alice2 = await loginClient(server.port, 'alice2', 'alice', PASSWORD, CAPS);
    clients.push(alice2);
    await ask(alice2, 'METADATA * SUB pronouns');
    await ask(alice, 'METADATA * SET pronouns :they/them');
    assert.deepEqual((await alice2.expect((m) => m.command === 'METADATA')).params, ['alice2', 'pronouns', '*', 'they/them']);
    // SYNC of the room gives the same data on demand.
    const sync = await askPlain(roomie, 'METADATA #meta SYNC');
    assert.deepEqual(sync, [['METADATA', 'alicia', 'display-name', '*', 'Alice Å']]);
    assert.deepEqual(await ask(stranger, 'METADATA #meta SYNC'), [['FAIL', 'METADATA', 'KEY_NO_PERMISSION', '#meta', '*', 'You are not in that room']]);
  });

  it('an IRC operator may set another user\'s metadata', async () => {
    const target = await login('dave', CAPS, 'davey');
    await ask(target, 'METADATA * SUB status');
    const op = await login('oper1');
    assert.deepEqual(await ask(op, 'METADATA davey SET status :verified'), [['FAIL', 'METADATA', 'KEY_NO_PERMISSION', 'davey', 'status', 'permission denied']]);
    op.send('OPER admin operpass');
    await op.expect((m) => m.command === '381');
    await op.sync();
    assert.deepEqual(await ask(op, 'METADATA davey SET status :verified'), [['761', 'oper1', 'davey', 'status', '*', 'verified']]);
    // The user itself hears of it: the change was not its own.
    assert.deepEqual((await target.expect((m) => m.command === 'METADATA')).params, ['davey', 'status', '*', 'verified']);
    assert.deepEqual(await askPlain(target, 'METADATA * GET status'), [['761', 'davey', 'davey', 'status', '*', 'verified']]);
    const g = await guest('opguest');
    assert.deepEqual(await ask(op, 'METADATA opguest SET status :x'), [['FAIL', 'METADATA', 'KEY_NO_PERMISSION', 'opguest', 'status', 'opguest is not logged in to an account']]);
    g.close();
  });

  it('rate-limits SET on oneself: RATE_LIMITED with the seconds to wait, then allowed again', async () => {
    const c = await login('erin', CAPS, 'erin2');
    const replies: string[][] = [];
    for (let i = 0; i < 40; i++) replies.push(...(await ask(c, `METADATA * SET status :n${i}`)));
    const limited = replies.filter((r) => r[2] === 'RATE_LIMITED');
    assert.ok(limited.length > 0, 'some were refused');
    assert.deepEqual(limited[0], ['FAIL', 'METADATA', 'RATE_LIMITED', 'erin2', 'status', '12', 'too many changes']);
    clock.advance(12_000);
    assert.equal((await ask(c, 'METADATA * SET status :later'))[0]![0], '761');
  });

  it('a failed store write answers TEMPORARILY_UNAVAILABLE and announces nothing', async () => {
    const store = server.server.store as SqliteStore;
    const setter = await login('carol', CAPS, 'carol3');
    const listener = await guest('listener');
    await ask(listener, 'METADATA * SUB avatar');
    await ask(listener, 'MONITOR + carol3');
    store.db.exec(`CREATE TEMP TRIGGER fail_metadata BEFORE INSERT ON account_metadata BEGIN SELECT RAISE(ABORT, 'injected: disk full'); END`);
    try {
      assert.deepEqual(await ask(setter, 'METADATA * SET avatar :https://example.org/new.png'), [
        ['FAIL', 'METADATA', 'TEMPORARILY_UNAVAILABLE', 'carol3', 'avatar', 'Metadata cannot be changed now; nothing was changed'],
      ]);
    } finally {
      store.db.exec('DROP TRIGGER temp.fail_metadata');
    }
    assert.equal((await listener.sync()).filter((m) => m.command === 'METADATA').length, 0);
    assert.deepEqual(await askPlain(setter, 'METADATA * GET avatar'), [['761', 'carol3', 'carol3', 'avatar', '*', 'https://example.org/c.png']]);
  });
});
