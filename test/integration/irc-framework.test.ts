// irc-framework (an independent IRC client library used by real clients such as Kiwi IRC)
// talking to Parley: proof that a client we did not write understands the server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import IRC from 'irc-framework';
import type { IrcMessage } from '../../src/protocol/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// irc-framework ships no types; these are the parts this test uses.
interface FrameworkEvent {
  nick?: string;
  new_nick?: string;
  target?: string;
  channel?: string;
  message?: string;
  type?: string;
  time?: number;
  tags?: Record<string, string>;
}
interface FrameworkClient {
  user: { nick: string };
  network: { cap: { enabled: string[] }; options: Record<string, unknown> };
  connect(options: Record<string, unknown>): void;
  join(channel: string): void;
  part(channel: string, message?: string): void;
  say(target: string, message: string): void;
  changeNick(nick: string): void;
  quit(message?: string): void;
  on(event: string, listener: (event: FrameworkEvent) => void): void;
  off(event: string, listener: (event: FrameworkEvent) => void): void;
  once(event: string, listener: () => void): void;
  connected: boolean;
}

const is = (command: string) => (m: IrcMessage) => m.command === command;

/** The next `event` from `client` that matches, or an error after a few seconds. */
function next(client: FrameworkClient, event: string, matches: (e: FrameworkEvent) => boolean = () => true): Promise<FrameworkEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off(event, listener);
      reject(new Error(`no matching '${event}' event`));
    }, 5000);
    const listener = (e: FrameworkEvent) => {
      if (!matches(e)) return;
      clearTimeout(timer);
      client.off(event, listener);
      resolve(e);
    };
    client.on(event, listener);
  });
}

describe('irc-framework as an independent client', () => {
  let server: TestServer;
  const clients: FrameworkClient[] = [];
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    for (const client of clients) if (client.connected) client.quit();
    await server.stop();
  });

  async function connect(nick: string): Promise<FrameworkClient> {
    const client = new (IRC as unknown as { Client: new () => FrameworkClient }).Client();
    clients.push(client);
    const registered = next(client, 'registered');
    client.connect({ host: '127.0.0.1', port: server.port, nick, username: nick, gecos: `${nick} framework`, auto_reconnect: false });
    await registered;
    return client;
  }

  async function joinRoom(client: FrameworkClient, room: string): Promise<void> {
    const joined = next(client, 'join', (e) => e.nick === client.user.nick && e.channel === room);
    client.join(room);
    await joined;
  }

  it('negotiates the IRCv3 capabilities it knows and reads ISUPPORT', async () => {
    const client = await connect('fwcaps');
    for (const cap of ['server-time', 'message-tags', 'multi-prefix', 'away-notify', 'extended-join', 'batch']) {
      assert.ok(client.network.cap.enabled.includes(cap), `${cap} enabled; got ${client.network.cap.enabled.join(' ')}`);
    }
    assert.equal(client.network.options.CASEMAPPING, 'ascii');
    assert.equal(client.network.options.NETWORK, 'Parley');
    client.quit();
  });

  it('two clients chat in a room, see server time and msgid, then nick changes, parts and quits', async () => {
    const [ann, bob] = [await connect('fwann'), await connect('fwbob')];
    await joinRoom(ann, '#framework');
    const bobSeen = next(ann, 'join', (e) => e.nick === 'fwbob');
    await joinRoom(bob, '#framework');
    await bobSeen;

    const heard = next(bob, 'privmsg', (e) => e.message === 'hello from ann');
    const message = next(bob, 'message', (e) => e.message === 'hello from ann');
    const before = Date.now();
    ann.say('#framework', 'hello from ann');
    const privmsg = await heard;
    assert.equal(privmsg.nick, 'fwann');
    assert.equal(privmsg.target, '#framework');
    assert.equal(typeof privmsg.time, 'number', 'server-time is parsed into `time`');
    assert.ok(Math.abs(privmsg.time! - before) < 5000);
    assert.match(privmsg.tags?.time ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(privmsg.tags?.msgid, 'msgid reaches message-tags clients');
    assert.equal((await message).type, 'privmsg');

    const renamed = next(bob, 'nick', (e) => e.nick === 'fwann');
    ann.changeNick('fwann2');
    assert.equal((await renamed).new_nick, 'fwann2');

    const parted = next(bob, 'part', (e) => e.nick === 'fwann2');
    ann.part('#framework', 'stepping out');
    const part = await parted;
    assert.equal(part.channel, '#framework');
    assert.equal(part.message, 'stepping out');

    await joinRoom(ann, '#framework');
    const quitting = next(bob, 'quit', (e) => e.nick === 'fwann2');
    ann.quit('see you');
    assert.equal((await quitting).message, 'Quit: see you');
    bob.quit();
  });

  it('an irc-framework client and a RawClient talk in a direct message', async () => {
    const framework = await connect('fwcarol');
    const raw = await RawClient.register(server.port, 'rawdave');
    const heard = next(framework, 'privmsg', (e) => e.nick === 'rawdave');
    raw.send('PRIVMSG fwcarol :hello from raw');
    const atFramework = await heard;
    assert.equal(atFramework.target, 'fwcarol');
    assert.equal(atFramework.message, 'hello from raw');

    framework.say('rawdave', 'hello back, raw');
    const atRaw = await raw.expect(is('PRIVMSG'));
    assert.match(atRaw.source ?? '', /^fwcarol!~fwcarol@127\.0\.0\.1$/);
    assert.deepEqual(atRaw.params, ['rawdave', 'hello back, raw']);

    const noticed = next(framework, 'notice', (e) => e.nick === 'rawdave');
    raw.send('NOTICE fwcarol :a notice');
    assert.equal((await noticed).message, 'a notice');
    framework.quit();
    raw.close();
  });
});
