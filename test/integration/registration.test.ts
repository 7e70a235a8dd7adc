import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { IrcMessage } from '../../src/protocol/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const is = (command: string) => (m: IrcMessage) => m.command === command;
const commands = (messages: IrcMessage[]) => messages.map((m) => m.command);

/** Connect, send NICK and USER, and return everything up to the end of the burst. */
async function registerAndCollect(port: number, nick: string): Promise<{ client: RawClient; burst: IrcMessage[] }> {
  const client = await RawClient.connect({ port });
  client.send(`NICK ${nick}`);
  client.send(`USER ${nick} 0 * :${nick} Real`);
  return { client, burst: await client.sync() };
}

describe('registration', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  it('sends 001-005 with the ISUPPORT tokens, then LUSERS, then ERR_NOMOTD', async () => {
    const { client, burst } = await registerAndCollect(server.port, 'welcomed');
    const order = commands(burst);
    assert.deepEqual(order.slice(0, 4), ['001', '002', '003', '004']);
    const welcome = burst[0]!;
    assert.equal(welcome.source, 'parley.local');
    assert.equal(welcome.params[0], 'welcomed');
    assert.match(welcome.params[1]!, /welcomed!~welcomed@127\.0\.0\.1$/);
    assert.equal(burst[3]!.params[1], 'parley.local');

    const isupport = burst.filter(is('005'));
    assert.ok(isupport.length >= 1);
    for (const line of isupport) assert.equal(line.params.at(-1), 'are supported by this server');
    const tokens = isupport.flatMap((m) => m.params.slice(1, -1));
    for (const token of [
      'CASEMAPPING=ascii',
      'CHANTYPES=#',
      'PREFIX=(ov)@+',
      'CHANMODES=beI,k,l,Cimnst',
      'NICKLEN=30',
      'CHANNELLEN=64',
      'TOPICLEN=390',
      'NETWORK=Parley',
      'UTF8ONLY',
      'PASSWORDMINLEN=8',
      'ELIST=CMNTU',
    ]) {
      assert.ok(tokens.includes(token), `ISUPPORT has ${token}; got ${tokens.join(' ')}`);
    }
    // LUSERS follows ISUPPORT, then the MOTD (missing here).
    const afterIsupport = order.slice(order.lastIndexOf('005') + 1);
    assert.deepEqual(afterIsupport, ['251', '252', '253', '254', '255', '265', '266', '422']);
    client.send('MOTD');
    await client.expect(is('422'));
    client.close();
  });

  it('draft/pre-away: AWAY during registration is kept and shows once registered; without the cap it is 451', async () => {
    const early = await RawClient.connect({ port: server.port });
    early.send('CAP LS 302');
    early.send('CAP REQ :draft/pre-away');
    early.send('NICK preaway');
    early.send('USER preaway 0 * :Pre Away');
    early.send('AWAY :back at nine');
    const before = await early.sync();
    assert.ok(before.some((m) => m.command === 'CAP' && m.params[1] === 'ACK'));
    assert.deepEqual(before.filter((m) => ['305', '306', '451', '001'].includes(m.command)), [], 'no reply and no welcome yet');
    early.send('CAP END');
    await early.expect(is('001'));
    const asker = await RawClient.register(server.port, 'preasker');
    asker.send('WHOIS preaway');
    const whois = await asker.sync();
    assert.deepEqual(whois.filter(is('301')).map((m) => m.params.slice(1)), [['preaway', 'back at nine']]);
    asker.send('WHO preaway');
    assert.match((await asker.sync()).find(is('352'))!.params[6]!, /^G/);

    const plain = await RawClient.connect({ port: server.port });
    plain.send('CAP LS 302');
    plain.send('AWAY :too soon');
    assert.ok((await plain.sync()).some(is('451')));
    for (const client of [early, asker, plain]) client.close();
  });

  it('holds registration during CAP negotiation; REQ is all-or-nothing; END completes it', async () => {
    const client = await RawClient.connect({ port: server.port });
    client.send('CAP LS 302');
    client.send('NICK capper');
    client.send('USER capper 0 * :Cap Per');
    let seen = await client.sync();
    assert.ok(!seen.some(is('001')), 'no welcome while negotiating');
    const ls = seen.filter((m) => m.command === 'CAP' && m.params[1] === 'LS');
    const offered = ls.flatMap((m) => m.params.at(-1)!.split(' '));
    for (const cap of ['server-time', 'message-tags', 'echo-message', 'labeled-response', 'batch', 'multi-prefix']) {
      assert.ok(offered.includes(cap), `CAP LS offers ${cap}`);
    }

    client.send('CAP REQ :server-time no-such-cap');
    const nak = await client.expect(is('CAP'));
    assert.deepEqual(nak.params.slice(1), ['NAK', 'server-time no-such-cap']);
    client.send('CAP LIST');
    let list = await client.expect(is('CAP'));
    assert.equal(list.params[1], 'LIST');
    assert.ok(!list.params.at(-1)!.split(' ').includes('server-time'), 'a NAKed request enables nothing');

    client.send('CAP REQ :server-time echo-message');
    const ack = await client.expect(is('CAP'));
    assert.deepEqual(ack.params.slice(1), ['ACK', 'server-time echo-message']);
    client.send('CAP REQ :-echo-message');
    await client.expect((m) => m.command === 'CAP' && m.params[1] === 'ACK' && m.params[2] === '-echo-message');
    client.send('CAP LIST');
    list = await client.expect(is('CAP'));
    const enabled = list.params.at(-1)!.split(' ');
    assert.ok(enabled.includes('server-time'));
    assert.ok(!enabled.includes('echo-message'));
    seen = await client.sync();
    assert.ok(!seen.some(is('001')), 'still no welcome before CAP END');

    client.send('CAP END');
    await client.expect(is('001'));
    client.send('JOIN #capped');
    const join = await client.expect(is('JOIN'));
    assert.ok(join.tags?.time, 'server-time applies once negotiated');
    client.close();
  });

  it('refuses nicknames that are taken (case-insensitively), malformed or missing', async () => {
    const alice = await RawClient.register(server.port, 'Alice');
    const other = await RawClient.connect({ port: server.port });
    other.send('NICK alice');
    const inUse = await other.expect(is('433'));
    assert.deepEqual(inUse.params.slice(0, 2), ['*', 'alice']);
    other.send('NICK ALICE');
    await other.expect((m) => m.command === '433' && m.params[1] === 'ALICE');
    for (const bad of ['1digit', '#room', 'has!bang', 'a'.repeat(31)]) {
      other.send(`NICK ${bad}`);
      const erroneous = await other.expect(is('432'));
      assert.equal(erroneous.params[1], bad);
    }
    other.send('NICK :');
    await other.expect(is('431'));
    other.send('NICK');
    await other.expect(is('431'));

    // A registered user cannot take a nick that is in use either.
    const bob = await RawClient.register(server.port, 'bob');
    bob.send('NICK ALICE');
    await bob.expect((m) => m.command === '433' && m.params[0] === 'bob');
    // Changing only the case of one's own nick is allowed.
    alice.send('NICK ALICE');
    const change = await alice.expect(is('NICK'));
    assert.equal(change.source, 'Alice!~Alice@127.0.0.1');
    assert.deepEqual(change.params, ['ALICE']);
    for (const client of [alice, other, bob]) client.close();
  });

  it('answers ERR_NOTREGISTERED, ERR_NEEDMOREPARAMS and ERR_ALREADYREGISTERED', async () => {
    const early = await RawClient.connect({ port: server.port });
    early.send('JOIN #early');
    const notRegistered = await early.expect(is('451'));
    assert.equal(notRegistered.params[0], '*');
    early.send('USER onlyone');
    const more = await early.expect(is('461'));
    assert.deepEqual(more.params.slice(0, 2), ['*', 'USER']);
    early.close();

    const done = await RawClient.register(server.port, 'done');
    done.send('USER again 0 * :Again');
    await done.expect((m) => m.command === '462' && m.params[0] === 'done');
    done.send('PASS secret');
    await done.expect(is('462'));
    done.send('JOIN');
    const joinMore = await done.expect(is('461'));
    assert.equal(joinMore.params[1], 'JOIN');
    done.close();
  });

  it('answers PING with PONG, before and after registration', async () => {
    const client = await RawClient.connect({ port: server.port });
    client.send('PING :before registering');
    const early = await client.expect(is('PONG'));
    assert.deepEqual(early.params, ['parley.local', 'before registering']);
    client.close();
    const registered = await RawClient.register(server.port, 'pinger');
    registered.send('PING token123');
    const pong = await registered.expect(is('PONG'));
    assert.equal(pong.source, 'parley.local');
    assert.deepEqual(pong.params, ['parley.local', 'token123']);
    registered.close();
  });

  it('QUIT: peers see "Quit: reason", the quitter gets ERROR and is disconnected', async () => {
    const [leaver, stayer] = await Promise.all([
      RawClient.register(server.port, 'leaver'),
      RawClient.register(server.port, 'stayer'),
    ]);
    for (const client of [leaver, stayer]) {
      client.send('JOIN #goodbye');
      await client.expect(is('366'));
    }
    leaver.send('QUIT :gone fishing');
    const error = await leaver.expect(is('ERROR'));
    assert.match(error.params[0]!, /Quit: gone fishing/);
    await leaver.closedByServer();
    const quit = await stayer.expect(is('QUIT'));
    assert.equal(quit.source, 'leaver!~leaver@127.0.0.1');
    assert.deepEqual(quit.params, ['Quit: gone fishing']);
    stayer.close();
  });
});

describe('registration: LUSERS, MOTD and PASS', () => {
  it('LUSERS counts users, invisible users, unknown connections and rooms', async () => {
    const server = await startTestServer();
    const [a, b] = await Promise.all([RawClient.register(server.port, 'a'), RawClient.register(server.port, 'b')]);
    const pending = await RawClient.connect({ port: server.port });
    await pending.sync();
    a.send('JOIN #one');
    await a.expect(is('366'));
    b.send('MODE b +i');
    await b.expect(is('MODE'));
    a.send('LUSERS');
    const replies = await a.sync();
    const text = (code: string) => replies.find(is(code))!.params.slice(1).join(' ');
    assert.equal(text('251'), 'There are 1 users and 1 invisible on 1 servers');
    assert.equal(text('252'), '0 operator(s) online');
    assert.equal(text('253'), '1 unknown connection(s)');
    assert.equal(text('254'), '1 channels formed');
    assert.equal(text('255'), 'I have 2 clients and 0 servers');
    assert.equal(replies.find(is('265'))!.params[1], '2');
    assert.match(replies.find(is('265'))!.params[3]!, /^Current local users 2, max \d+$/);
    assert.equal(replies.find(is('266'))!.params[1], '2');
    for (const client of [a, b, pending]) client.close();
    await server.stop();
  });

  it('sends the MOTD from server.motd_file at registration and on MOTD', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-motd-'));
    const motdFile = join(dir, 'motd.txt');
    writeFileSync(motdFile, 'Welcome aboard.\nBe kind.\n');
    const server = await startTestServer({ server: { motd_file: motdFile } });
    const { client, burst } = await registerAndCollect(server.port, 'reader');
    const motd = burst.slice(burst.findIndex(is('375')));
    assert.deepEqual(commands(motd), ['375', '372', '372', '376']);
    assert.deepEqual(motd.slice(1, 3).map((m) => m.params[1]), ['- Welcome aboard.', '- Be kind.']);
    assert.ok(!burst.some(is('422')));
    client.send('MOTD');
    const again = await client.sync();
    assert.deepEqual(commands(again), ['375', '372', '372', '376']);
    client.close();
    await server.stop();
  });

  it('PASS: the right password registers; a wrong or missing one gets 464 and ERROR', async () => {
    const server = await startTestServer({ server: { password: 'sesame' } });
    const good = await RawClient.connect({ port: server.port });
    good.send('PASS sesame');
    good.send('NICK goodpass');
    good.send('USER goodpass 0 * :Good');
    await good.expect(is('001'));
    good.close();

    for (const pass of ['PASS wrong', null]) {
      const bad = await RawClient.connect({ port: server.port });
      if (pass) bad.send(pass);
      bad.send('NICK badpass');
      bad.send('USER badpass 0 * :Bad');
      const mismatch = await bad.expect((m) => m.command === '464' || m.command === '001');
      assert.equal(mismatch.command, '464');
      const error = await bad.expect(is('ERROR'));
      assert.match(error.params[0]!, /Bad password/);
      await bad.closedByServer();
    }
    await server.stop();
  });
});

describe('registration: server timers', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      limits: { ping_interval_seconds: 0.2, ping_timeout_seconds: 0.2, registration_timeout_seconds: 0.3 },
    });
  });
  after(() => server.stop());

  it('PINGs an idle client and drops it with "Ping timeout" when it does not answer', async () => {
    const [idle, peer] = await Promise.all([RawClient.register(server.port, 'idle'), RawClient.register(server.port, 'peer')]);
    peer.answerPings = true;
    for (const client of [idle, peer]) {
      client.send('JOIN #timers');
      await client.expect(is('366'));
    }
    const ping = await idle.expect(is('PING'));
    assert.deepEqual(ping.params, ['parley.local']);
    // idle does not answer.
    const quit = await peer.expect((m) => m.command === 'QUIT' && m.source?.startsWith('idle!') === true);
    assert.match(quit.params[0]!, /^Ping timeout/);
    const error = await idle.expect(is('ERROR'));
    assert.match(error.params[0]!, /Ping timeout/);
    await idle.closedByServer();
    // The peer answered its PINGs and is still here.
    await peer.sync();
    peer.close();
  });

  it('closes a connection that does not finish registering in time', async () => {
    const slow = await RawClient.connect({ port: server.port });
    slow.send('NICK slowpoke');
    const error = await slow.expect(is('ERROR'));
    assert.match(error.params[0]!, /Registration timed out/);
    await slow.closedByServer();
  });
});
