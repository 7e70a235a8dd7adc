import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IrcClient } from '../../src/client/client.js';
import type { ChatMessage } from '../../src/client/events.js';
import { registerAccount } from '../helpers/accounts.js';
import { connected, engineClient, nextEvent, sync } from '../helpers/engine.js';
import { WANTED_CAPS } from '../../src/client/registration.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('client engine against a real server', () => {
  let server: TestServer;
  const clients: IrcClient[] = [];
  const make = (nick: string, options: Parameters<typeof engineClient>[2] = {}) => {
    const client = engineClient(server.port, nick, options);
    clients.push(client);
    return client;
  };
  before(async () => {
    server = await startTestServer({ accounts: { scrypt_log_n: 10 } });
    await registerAccount(server.port, 'dora', 'dora-password');
  });
  after(async () => {
    for (const client of clients) client.close();
    await server.stop();
  });

  it('negotiates the caps it wants and reads ISUPPORT', async () => {
    const alice = await connected(make('alice'));
    for (const cap of ['server-time', 'echo-message', 'batch', 'labeled-response', 'draft/chathistory', 'sasl']) assert.ok(alice.caps.has(cap), cap);
    assert.equal(alice.offeredCaps.get('sasl'), 'PLAIN,SCRAM-SHA-256');
    assert.equal(alice.isupport.casemapping, 'ascii');
    assert.deepEqual(alice.isupport.prefix, { modes: 'ov', symbols: '@+' });
    assert.ok(alice.isupport.chathistoryLimit > 0);
    assert.equal(alice.status, 'ready');
  });

  it("follows a room renamed with draft/channel-rename: the room's state moves to the new name, no PART or JOIN", async () => {
    const rita = make('rita', { rooms: ['#before'] });
    const ritaJoined = nextEvent(rita, 'names', (n) => n.room === '#before');
    await connected(rita);
    await ritaJoined;
    const sid = make('sid', { rooms: ['#before'] });
    const sidJoined = nextEvent(sid, 'names', (n) => n.room === '#before');
    await connected(sid);
    await sidJoined;
    assert.ok(sid.caps.has('draft/channel-rename'));
    const said = nextEvent(sid, 'message', (m) => m.text === 'first');
    rita.say('#before', 'first');
    await said;
    const renamed = nextEvent(sid, 'roomRename');
    rita.send('RENAME #before #after :better');
    assert.deepEqual(await renamed, { from: '#before', to: '#after', by: 'rita', reason: 'better' });
    assert.equal(sid.state.room('#before'), undefined);
    assert.deepEqual([...sid.state.room('#after')!.members.values()].map((m) => m.nick).sort(), ['rita', 'sid']);
    assert.equal(sid.state.room('#after')!.name, '#after');
    // Messages under the new name reach it as the same room; no PART or JOIN was shown.
    const next = nextEvent(sid, 'message', (m) => m.text === 'second');
    rita.say('#after', 'second');
    assert.equal((await next).conversation, '#after');
  });

  it('joins rooms, tracks members, and exchanges messages with time, msgid and echo', async () => {
    const ann = make('ann', { rooms: ['#talk'] });
    const joined = nextEvent(ann, 'names', (n) => n.room === '#talk');
    await connected(ann);
    assert.deepEqual((await joined).members, [{ nick: 'ann', prefixes: '@' }]);
    const ben = make('ben');
    await connected(ben);
    const seen = nextEvent(ann, 'join', (j) => j.nick === 'ben');
    ben.join('#talk');
    await seen;
    assert.deepEqual([...ann.state.room('#TALK')!.members.values()].map((m) => m.nick).sort(), ['ann', 'ben']);

    const heard = nextEvent(ann, 'message', (m) => !m.isOwn);
    const echo = nextEvent(ben, 'message', (m) => m.isOwn);
    ben.say('#talk', 'hello \x02ann\x02');
    const [got, own] = await Promise.all([heard, echo]);
    assert.equal(got.text, 'hello \x02ann\x02');
    assert.equal(got.sender, 'ben');
    assert.equal(got.conversation, '#talk');
    assert.ok(got.msgid);
    assert.equal(got.msgid, own.msgid);
    assert.ok(Math.abs(got.time.getTime() - Date.now()) < 5000);

    const action = nextEvent(ann, 'message', (m) => m.isAction);
    ben.action('#talk', 'waves');
    assert.equal((await action).text, 'waves');

    const direct = nextEvent(ann, 'message', (m) => m.target === 'ann');
    ben.say('ann', 'psst');
    assert.equal((await direct).conversation, 'ben');

    const renamed = nextEvent(ann, 'nick', (n) => n.oldNick === 'ben');
    ben.setNick('benny');
    assert.deepEqual((await renamed).rooms, ['#talk']);
    assert.ok(ann.state.room('#talk')!.members.has('benny'));
    const left = nextEvent(ann, 'part', (p) => p.nick === 'benny');
    ben.part('#talk', 'bye');
    assert.equal((await left).reason, 'bye');
  });

  it('sends long text as one multiline message, or without the cap splits it into lines that fit', async () => {
    const sam = await connected(make('sam', { rooms: ['#long'] }));
    const tom = await connected(make('tom', { rooms: ['#long'] }));
    const withoutMultiline = WANTED_CAPS.filter((cap) => cap !== 'draft/multiline');
    const old = await connected(make('oldsam', { rooms: ['#long'], caps: withoutMultiline }));
    await sync(sam);
    await sync(old);
    const got: ChatMessage[] = [];
    tom.on('message', (m) => got.push(m));
    const text = 'word '.repeat(300).trim();
    sam.say('#long', text);
    await sync(sam);
    await sync(tom);
    assert.deepEqual(got.map((m) => m.text), [text]);
    got.length = 0;
    old.say('#long', text);
    await sync(old);
    await sync(tom);
    assert.ok(got.length >= 3);
    assert.equal(got.map((m) => m.text).join(' '), text);
  });

  it('shows the history of a room on joining (CHATHISTORY LATEST)', async () => {
    const old = await connected(make('oldtimer', { rooms: ['#hist'] }));
    await sync(old);
    for (let i = 0; i < 3; i++) old.say('#hist', `line ${i}`);
    await sync(old);
    const late = make('latecomer', { rooms: ['#hist'] });
    const history = nextEvent(late, 'history');
    await connected(late);
    const batch = await history;
    assert.equal(batch.reason, 'join');
    assert.deepEqual(batch.messages.map((m) => m.text), ['line 0', 'line 1', 'line 2']);
    assert.ok(batch.messages.every((m) => m.sender === 'oldtimer' && m.msgid));
    const older = await late.before('#hist', `msgid=${batch.messages[2]!.msgid}`, 10);
    assert.deepEqual(older.map((m) => m.text), ['line 0', 'line 1']);
  });

  it('answers labeled requests with exactly their reply', async () => {
    const quinn = await connected(make('quinn', { rooms: ['#who'] }));
    await sync(quinn);
    const reply = await quinn.request('WHO #who');
    assert.deepEqual(reply.map((m) => m.command), ['352', '315']);
    const fail = await quinn.request('MARKREAD');
    assert.deepEqual(fail.map((m) => [m.command, m.params[0]]), [['FAIL', 'MARKREAD']]);
    assert.deepEqual(await quinn.request('PONG nothing-to-say'), []);
  });

  it('logs in with SASL PLAIN and with SCRAM-SHA-256 while connecting', async () => {
    const plain = await connected(make('dora', { sasl: { account: 'dora', password: 'dora-password', mechanism: 'PLAIN' } }));
    assert.equal(plain.account, 'dora');
    const scram = make('dora2', { sasl: { account: 'dora', password: 'dora-password' } });
    const challenges: string[] = [];
    scram.on('raw', (m) => m.command === 'AUTHENTICATE' && challenges.push(Buffer.from(m.params[0]!, 'base64').toString()));
    await connected(scram);
    assert.equal(scram.account, 'dora');
    assert.match(challenges[1] ?? '', /^r=.+,s=.+,i=\d+$/, 'a SCRAM server-first message');
    const failed = make('dora3', { sasl: { account: 'dora', password: 'wrong-password' } });
    const error = nextEvent(failed, 'error', (e) => e.kind === 'sasl');
    await connected(failed);
    assert.match((await error).text, /Login as dora failed/);
    assert.equal(failed.account, null);
  });

  it('logs in after connecting, and registers accounts', async () => {
    const eve = await connected(make('eve'));
    assert.deepEqual(await eve.login('dora', 'nope'), { ok: false, error: 'SASL authentication failed' });
    assert.deepEqual(await eve.login('dora', 'dora-password'), { ok: true });
    assert.equal(eve.account, 'dora');
    const fred = await connected(make('fred'));
    assert.deepEqual(await fred.registerAccount('fred', 'fred-password'), { ok: true });
    assert.equal(fred.account, 'fred');
    const again = await connected(make('fred_x'));
    const refused = await again.registerAccount('fred', 'another-password');
    assert.equal(refused.ok, false);
  });

  it('keeps read markers in step (draft/read-marker)', async () => {
    const reader = await connected(make('reader', { rooms: ['#read'], sasl: { account: 'dora', password: 'dora-password' } }));
    await sync(reader);
    const time = new Date(Date.now() - 60_000);
    const marker = nextEvent(reader, 'readMarker', (m) => m.target === '#read' && m.time !== null);
    reader.markRead('#read', time);
    assert.equal((await marker).time!.toISOString(), time.toISOString());
  });

  it('falls back to another nick when the one asked for is taken', async () => {
    await connected(make('gina'));
    const second = await connected(make('gina'));
    assert.equal(second.nick, 'gina_');
    assert.equal(second.desiredNick, 'gina');
  });

  it('tells the app when its nick is a registered account (nickReserved), so it can sign in', async () => {
    await registerAccount(server.port, 'rhea', 'rhea-password');
    const guest = make('rhea');
    const reserved = nextEvent(guest, 'nickReserved');
    guest.connect();
    assert.deepEqual(await reserved, { nick: 'rhea' });
    assert.equal(guest.status, 'registering');
    guest.close();
    // Without a listener the engine picks another nick, as for one in use.
    const fallback = await connected(make('rhea'));
    assert.equal(fallback.nick, 'rhea_');
    assert.equal(fallback.account, null);
    const owner = await connected(make('Rhea', { sasl: { account: 'rhea', password: 'rhea-password' } }));
    assert.equal(owner.nick, 'Rhea');
    assert.equal(owner.account, 'rhea');
  });

  it('quits with the server goodbye', async () => {
    const hal = await connected(make('hal'));
    const goodbye = await hal.quit('see you');
    assert.match(goodbye ?? '', /Quit: see you/);
    assert.equal(hal.status, 'closed');
  });
});
