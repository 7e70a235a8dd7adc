import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IrcMessage } from '../../src/protocol/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const is = (command: string) => (m: IrcMessage) => m.command === command;

// Every size limit and every text rule, each refused with its documented reply (docs/security.md).
describe('size limits', () => {
  let server: TestServer;
  let alice: RawClient;
  before(async () => {
    server = await startTestServer({
      limits: { nick_length: 9, channel_length: 10, topic_length: 10, away_length: 8, channels_per_user: 2, who_max_results: 3, list_max_results: 2 },
    });
    alice = await RawClient.register(server.port, 'alice');
  });
  after(async () => {
    alice.close();
    await server.stop();
  });

  it('more than 15 parameters: FAIL <command> INVALID_MESSAGE; 15 are fine', async () => {
    alice.send(`PING ${Array.from({ length: 16 }, (_, i) => `p${i}`).join(' ')}`);
    const fail = await alice.expect(is('FAIL'));
    assert.deepEqual(fail.params.slice(0, 2), ['PING', 'INVALID_MESSAGE']);
    assert.match(fail.params[2]!, /Too many parameters/);
    alice.send(`PING ${Array.from({ length: 15 }, (_, i) => `p${i}`).join(' ')}`);
    assert.equal((await alice.expect(is('PONG'))).params[1], 'p0');
  });

  it('nick, room name, rooms per user: 432, 403, 405', async () => {
    alice.send('NICK abcdefghij');
    assert.equal((await alice.expect(is('432'))).params[1], 'abcdefghij');
    alice.send('JOIN #abcdefghij');
    assert.equal((await alice.expect(is('403'))).params[1], '#abcdefghij');
    alice.send('JOIN #one,#two,#three');
    assert.equal((await alice.expect(is('405'))).params[1], '#three');
  });

  it('topic and away text are cut to TOPICLEN and AWAYLEN', async () => {
    alice.send('TOPIC #one :0123456789abcdef');
    assert.equal((await alice.expect(is('TOPIC'))).params[1], '0123456789');
    alice.send('AWAY :0123456789');
    await alice.expect(is('306'));
    alice.send('WHOIS alice');
    assert.equal((await alice.expect(is('301'))).params[2], '01234567');
    alice.send('AWAY');
    await alice.expect(is('305'));
  });

  it('WHO with a mask and LIST stop at their limits with 416 ERR_TOOMANYMATCHES', async () => {
    const others = await Promise.all(['many1', 'many2', 'many3', 'many4'].map((nick) => RawClient.register(server.port, nick)));
    alice.send('WHO many*');
    const who = await alice.sync();
    assert.equal(who.filter(is('352')).length, 3);
    assert.deepEqual(who.filter(is('416')).map((m) => m.params.slice(1)), [['WHO', 'Output too large, truncated']]);
    assert.ok(who.at(-1)!.command === '315', 'RPL_ENDOFWHO still ends it');
    // A room listing is not a search: WHO #room lists every member.
    for (const client of others) {
      client.send('JOIN #one');
      await client.expect(is('366'));
    }
    alice.send('WHO #one');
    assert.equal((await alice.sync()).filter(is('352')).length, 5);

    others[0]!.send('JOIN #three');
    await others[0]!.expect(is('366'));
    alice.send('LIST');
    const list = await alice.sync();
    assert.equal(list.filter(is('322')).length, 2);
    assert.deepEqual(list.filter(is('416')).map((m) => m.params[1]), ['LIST']);
    assert.equal(list.at(-1)!.command, '323');
    for (const client of others) client.close();
  });
});

describe('control characters in text', () => {
  let server: TestServer;
  let sender: RawClient;
  let peer: RawClient;
  before(async () => {
    server = await startTestServer();
    [sender, peer] = await Promise.all([RawClient.register(server.port, 'sender'), RawClient.register(server.port, 'peer')]);
    for (const client of [sender, peer]) {
      client.send('JOIN #text');
      await client.expect(is('366'));
    }
  });
  after(async () => {
    sender.close();
    peer.close();
    await server.stop();
  });

  it('IRC formatting and CTCP pass in messages; other control characters are refused and not relayed', async () => {
    const formatted = '\x02bold\x02 \x0304,01red\x03 \x1ditalic\x1d \x1funder\x1f \x1estrike\x1e \x11mono\x11 \x16rev\x16 \x04ff0000hex\x04\x0f';
    sender.send(`PRIVMSG #text :${formatted}`);
    assert.equal((await peer.expect(is('PRIVMSG'))).params[1], formatted);
    sender.send('PRIVMSG #text :\x01ACTION waves\x01');
    assert.equal((await peer.expect(is('PRIVMSG'))).params[1], '\x01ACTION waves\x01');
    for (const bad of ['bell\x07', 'escape\x1b[2J', 'tab\there', 'del\x7f', 'backspace\x08']) {
      sender.send(`PRIVMSG #text :${bad}`);
      const fail = await sender.expect(is('FAIL'));
      assert.deepEqual(fail.params.slice(0, 2), ['PRIVMSG', 'INVALID_TEXT'], JSON.stringify(bad));
    }
    assert.deepEqual((await peer.sync()).filter(is('PRIVMSG')), [], 'nothing was relayed');
  });

  it('topic, away, part and kick reasons: formatting yes, other controls FAIL INVALID_TEXT', async () => {
    sender.send('TOPIC #text :\x02bold topic\x02');
    assert.equal((await peer.expect(is('TOPIC'))).params[1], '\x02bold topic\x02');
    for (const [line, command] of [['TOPIC #text :bad\x07', 'TOPIC'], ['AWAY :gone\x1b', 'AWAY'], ['PART #text :bye\x07', 'PART'], ['KICK #text peer :out\x07', 'KICK']] as const) {
      sender.send(line);
      const reply = await sender.expect((m) => m.command === 'FAIL' || m.command === 'PART' || m.command === 'KICK');
      assert.deepEqual(reply.params.slice(0, 2), [command, 'INVALID_TEXT'], line);
    }
    sender.send('NAMES #text');
    assert.match((await sender.expect(is('353'))).params.at(-1)!, /peer/, 'nobody was kicked, nobody left');
  });

  it('real names take no control characters at all (USER, SETNAME): FAIL INVALID_REALNAME', async () => {
    const client = await RawClient.connect({ port: server.port });
    client.send('NICK realnamer');
    client.send('USER r 0 * :\x02Bold Name\x02');
    assert.deepEqual((await client.expect(is('FAIL'))).params.slice(0, 2), ['USER', 'INVALID_REALNAME']);
    client.send('USER r 0 * :Plain Name');
    await client.expect(is('001'));
    client.send('SETNAME :new\x03name');
    assert.deepEqual((await client.expect(is('FAIL'))).params.slice(0, 2), ['SETNAME', 'INVALID_REALNAME']);
    client.close();
  });

  it('nicks and room names keep to their grammar: 432 and 403', async () => {
    sender.send('NICK bad\x02nick');
    await sender.expect(is('432'));
    sender.send('JOIN #bad\x07room');
    await sender.expect(is('403'));
  });

  it('a QUIT reason is cleaned rather than refused: the client leaves either way', async () => {
    const leaver = await RawClient.register(server.port, 'leaver');
    leaver.send('JOIN #text');
    await leaver.expect(is('366'));
    leaver.send('QUIT :bye\x07 now');
    assert.deepEqual((await peer.expect(is('QUIT'))).params, ['Quit: bye now']);
    await leaver.closedByServer();
  });
});
