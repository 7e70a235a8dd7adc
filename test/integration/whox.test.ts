// WHOX (ircv3.net/specs/extensions/whox): WHO with chosen fields, answered with 354 in one
// fixed order; checked raw and through irc-framework, whose who() uses WHOX when the server
// advertises it (as irssi and WeeChat do on every join).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import IRC from 'irc-framework';
import type { IrcMessage } from '../../src/protocol/index.js';
import { loginClient, registerAccount } from '../helpers/accounts.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

interface WhoMember {
  nick: string;
  ident: string;
  hostname: string;
  account: string;
  real_name: string;
  channel: string;
  num_hops_away: number;
  away: boolean;
}
interface FrameworkClient {
  connect(options: Record<string, unknown>): void;
  who(target: string, cb: (event: { target: string; users: WhoMember[] }) => void): void;
  quit(message?: string): void;
  once(event: string, listener: () => void): void;
}

/** Everything up to and including the 315 that ends a WHO. */
async function whoLines(client: RawClient, line: string): Promise<IrcMessage[]> {
  client.send(line);
  const got: IrcMessage[] = [];
  for (;;) {
    const m = await client.expect(() => true);
    got.push(m);
    if (m.command === '315') return got;
  }
}

describe('WHOX', () => {
  let server: TestServer;
  let alice: RawClient;
  let bob: RawClient;
  before(async () => {
    server = await startTestServer({ accounts: { scrypt_log_n: 10 } });
    await registerAccount(server.port, 'alice', 'correct horse battery');
    alice = await loginClient(server.port, 'alice', 'alice', 'correct horse battery');
    bob = await RawClient.register(server.port, 'bob');
    for (const c of [alice, bob]) {
      c.send('JOIN #whox');
      await c.expect((m) => m.command === '366');
    }
    bob.send('AWAY :lunch');
    await bob.expect((m) => m.command === '306');
    await alice.sync();
  });
  after(async () => {
    alice?.close();
    bob?.close();
    await server?.stop();
  });

  it('is advertised in ISUPPORT', async () => {
    const c = await RawClient.connect({ port: server.port });
    c.send('NICK isup');
    c.send('USER isup 0 * :isup');
    await c.expect((m) => m.command === '005' && m.params.includes('WHOX'));
    c.close();
  });

  it('answers a room with 354 only, the fields in the spec order whatever order they were asked in', async () => {
    const lines = await whoLines(alice, 'WHO #whox %rantfcuhsdlio,42');
    assert.ok(!lines.some((m) => m.command === '352'), 'no RPL_WHOREPLY with WHOX');
    const replies = lines.filter((m) => m.command === '354');
    assert.equal(replies.length, 2);
    const byNick = new Map(replies.map((m) => [m.params[7], m.params]));
    // me, t c u i h s n f d l a o r
    const a = byNick.get('alice')!;
    assert.deepEqual([a[0], a[1], a[2], a[3], a[6], a[7], a[8], a[9], a[11], a[12], a[13]], ['alice', '42', '#whox', '~alice', server.server.name, 'alice', 'H@', '0', 'alice', 'n/a', 'alice']);
    assert.match(a[10]!, /^\d+$/, 'idle seconds');
    const b = byNick.get('bob')!;
    assert.equal(b[8], 'G', 'away, not an op');
    assert.equal(b[11], '0', 'a user who is not logged in has account 0');
    assert.equal(lines.at(-1)!.command, '315');
  });

  it('answers a nick with just the fields asked for; a bad token becomes 0; unknown letters are ignored', async () => {
    let replies = (await whoLines(alice, 'WHO bob %nazq')).filter((m) => m.command === '354');
    assert.deepEqual(replies.map((m) => m.params), [['alice', 'bob', '0']]);
    replies = (await whoLines(alice, 'WHO bob %tn,12345')).filter((m) => m.command === '354');
    assert.deepEqual(replies.map((m) => m.params), [['alice', '0', 'bob']]);
    replies = (await whoLines(alice, 'WHO bob %cn')).filter((m) => m.command === '354');
    assert.deepEqual(replies.map((m) => m.params), [['alice', '#whox', 'bob']], 'a room both can see');
    const plain = await whoLines(alice, 'WHO bob');
    assert.ok(plain.some((m) => m.command === '352') && !plain.some((m) => m.command === '354'), 'plain WHO unchanged');
  });

  it('irc-framework reads accounts, away and hop counts through its WHOX request', async () => {
    const client = new (IRC as unknown as { Client: new () => FrameworkClient }).Client();
    const registered = new Promise<void>((resolve) => client.once('registered', resolve));
    client.connect({ host: '127.0.0.1', port: server.port, nick: 'framework', username: 'fw', gecos: 'fw', auto_reconnect: false });
    await registered;
    const result = await new Promise<{ users: WhoMember[] }>((resolve) => client.who('#whox', resolve));
    const users = new Map(result.users.map((u) => [u.nick, u]));
    assert.deepEqual([...users.keys()].sort(), ['alice', 'bob']);
    assert.equal(users.get('alice')!.account, 'alice');
    assert.equal(users.get('bob')!.account, '');
    assert.equal(users.get('bob')!.away, true);
    assert.equal(users.get('alice')!.num_hops_away, 0);
    assert.equal(users.get('alice')!.real_name, 'alice');
    client.quit();
  });
});
