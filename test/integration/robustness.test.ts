import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IrcMessage } from '../../src/protocol/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const is = (command: string) => (m: IrcMessage) => m.command === command;
const relayed = (m: IrcMessage) => m.command === 'PRIVMSG' || m.command === 'NOTICE' || m.command === 'TAGMSG';

/** Deterministic "random" bytes without LF, so the test is the same on every run. */
function noise(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    const byte = state >> 16 & 0xff;
    bytes[i] = byte === 10 ? 11 : byte;
  }
  return bytes;
}

describe('robustness against bad input', () => {
  let server: TestServer;
  let port: number;
  let sender: RawClient;
  let peer: RawClient;
  before(async () => {
    server = await startTestServer();
    port = server.port;
    [sender, peer] = await Promise.all([
      RawClient.register(port, 'sender'),
      RawClient.register(port, 'peer', ['message-tags']),
    ]);
    for (const client of [sender, peer]) {
      client.send('JOIN #robust');
      await client.expect(is('366'));
    }
    await sender.sync();
  });
  after(async () => {
    sender.close();
    peer.close();
    await server.stop();
  });

  /** The peer has received nothing relayed since the last check. */
  async function peerGotNothing(): Promise<void> {
    const seen = await peer.sync();
    assert.deepEqual(seen.filter(relayed), [], 'nothing was relayed');
  }

  it('invalid UTF-8: FAIL PRIVMSG INVALID_UTF8, and nothing reaches the room', async () => {
    sender.sendRaw(Buffer.concat([Buffer.from('PRIVMSG #robust :bad '), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('\r\n')]));
    const fail = await sender.expect(is('FAIL'));
    assert.deepEqual(fail.params.slice(0, 2), ['PRIVMSG', 'INVALID_UTF8']);
    await peerGotNothing();
    sender.send('PRIVMSG #robust :good again');
    await peer.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'good again');
  });

  it('NUL or a bare CR inside a line is refused, so no line can be forged at a recipient', async () => {
    sender.sendRaw('PRIVMSG #robust :hi\r:evil!e@example PRIVMSG #robust :forged\r\n');
    const fail = await sender.expect(is('FAIL'));
    assert.deepEqual(fail.params.slice(0, 2), ['*', 'INVALID_MESSAGE']);
    sender.sendRaw('PRIVMSG #robust :nul\x00byte\r\n');
    await sender.expect(is('FAIL'));
    await peerGotNothing();
    assert.ok(!peer.lines.some((line) => line.includes('forged')));
  });

  it('a line over 512 bytes gets 417 and the session goes on; 510 bytes plus CRLF is fine', async () => {
    const prefix = 'PRIVMSG #robust :';
    const exact = prefix + 'a'.repeat(510 - prefix.length);
    sender.send(exact);
    const atPeer = await peer.expect(is('PRIVMSG'));
    // Relayed with the sender's prefix, the text is cut so the peer's line is 512 bytes too.
    assert.equal(atPeer.params[1]!.length, 510 - `:${atPeer.source} ${prefix}`.length);
    sender.send(exact + 'b');
    const tooLong = await sender.expect(is('417'));
    assert.equal(tooLong.params[0], 'sender');
    await peerGotNothing();
    sender.send('PRIVMSG #robust :after the long one');
    await peer.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'after the long one');
  });

  it('a 100 KB line without a newline gets one 417 and the connection stays usable', async () => {
    sender.sendRaw('PRIVMSG #robust :' + 'y'.repeat(100_000));
    await sender.expect(is('417'));
    sender.sendRaw('yyyy\r\n');
    const rest = await sender.sync();
    assert.deepEqual(rest.filter(is('417')), [], 'one 417 per over-long line');
    sender.send('PRIVMSG #robust :still usable');
    await peer.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'still usable');
    assert.ok(!peer.lines.some((line) => line.includes('yyyy')));
  });

  it('client tags: 4000 bytes are relayed, more than 4094 get 417', async () => {
    const value = 'v'.repeat(4000);
    sender.send(`@+big=${value} PRIVMSG #robust :big tags`);
    const big = await peer.expect(is('PRIVMSG'));
    assert.equal(big.tags?.['+big'], value);
    sender.send(`@+huge=${'h'.repeat(5000)} PRIVMSG #robust :huge tags`);
    await sender.expect(is('417'));
    await peerGotNothing();
  });

  it('unknown commands get 421', async () => {
    sender.send('FROBNICATE the widget');
    const unknown = await sender.expect(is('421'));
    assert.deepEqual(unknown.params, ['sender', 'FROBNICATE', 'Unknown command']);
  });

  it('garbage never takes the server down: PING is still answered and a new client registers', async () => {
    const garbage: (string | Buffer)[] = [
      '       ',
      ':only-prefix',
      ':only-prefix   ',
      '@tags-only',
      '@a=b;c=d    ',
      '@+ PRIVMSG #robust :empty tag key',
      '@=x PRIVMSG #robust :empty tag key',
      ':',
      '@',
      '\x00',
      '\x00\x00\x00 \x00',
      '\x01\x02\x03\x7f',
      'PRIVMSG',
      'PRIVMSG #robust',
      'MODE',
      'MODE #robust +bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
      'MODE #robust +kl',
      'MODE #robust +l -1',
      'JOIN ,,,,',
      'JOIN #,#',
      'KICK #robust',
      'NAMES ,',
      'WHO',
      'WHOIS ,',
      'CAP',
      'CAP FOO',
      'CAP REQ',
      'TOPIC',
      'A B C D E F G H I J K L M N O P Q R S T U V W X Y Z',
      'PRIVMSG ' + ','.repeat(300) + ' :commas',
      noise(400, 1),
      noise(400, 2),
      noise(200, 3),
    ];
    for (const bad of garbage) sender.sendRaw(Buffer.concat([Buffer.from(bad), Buffer.from('\r\n')]));
    sender.sendRaw(noise(3000, 4));
    sender.sendRaw('\n');
    await sender.sync();
    // Also from a connection that never registered.
    const stranger = await RawClient.connect({ port });
    for (const bad of garbage) stranger.sendRaw(Buffer.concat([Buffer.from(bad), Buffer.from('\n')]));
    await stranger.sync();
    stranger.close();

    const newcomer = await RawClient.register(port, 'newcomer');
    newcomer.send('JOIN #robust');
    await newcomer.expect(is('366'));
    sender.send('PRIVMSG #robust :server still fine');
    await newcomer.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'server still fine');
    newcomer.close();
  });
});

describe('robustness: a client that stops reading', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ limits: { sendq_bytes: 65536 } });
  });
  after(() => server.stop());

  it('is dropped with "SendQ exceeded" while the other members keep chatting', async () => {
    const [sleeper, talker, observer] = await Promise.all(
      ['sleeper', 'talker', 'observer'].map((nick) => RawClient.register(server.port, nick)),
    );
    for (const client of [sleeper!, talker!, observer!]) {
      client.send('JOIN #flood');
      await client.expect(is('366'));
    }
    await sleeper!.sync();
    sleeper!.socket.pause();

    const sleeperQuit = (m: IrcMessage) => m.command === 'QUIT' && m.source?.startsWith('sleeper!') === true;
    const filler = 'z'.repeat(440);
    // Kernel buffers absorb a few MB before the server's own queue grows; keep going until it drops.
    let quit: IrcMessage | undefined;
    for (let round = 0; round < 500 && !quit; round++) {
      for (let i = 0; i < 100; i++) talker!.send(`PRIVMSG #flood :${round}.${i} ${filler}`);
      await talker!.sync();
      quit = (await observer!.sync()).find(sleeperQuit);
    }
    assert.ok(quit, 'the sleeper was dropped');
    assert.deepEqual(quit.params, ['SendQ exceeded']);

    talker!.send('PRIVMSG #flood :carry on');
    await observer!.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'carry on');
    observer!.send('NAMES #flood');
    const names = (await observer!.sync()).find(is('353'))!.params.at(-1)!.split(' ').sort();
    assert.deepEqual(names, ['observer', 'talker']);
    sleeper!.close();
    talker!.close();
    observer!.close();
  });
});
