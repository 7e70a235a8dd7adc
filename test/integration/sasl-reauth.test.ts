import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IrcMessage } from '../../src/protocol/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { b64, loginClient, registerAccount } from '../helpers/accounts.js';
import { is, join } from '../helpers/fixture.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** One SASL PLAIN exchange: the numerics up to the 903 or 904 that ends it. */
async function saslPlainReply(client: RawClient, account: string, password: string): Promise<IrcMessage[]> {
  client.send('AUTHENTICATE PLAIN');
  await client.expect((m) => m.command === 'AUTHENTICATE' && m.params[0] === '+');
  client.send(`AUTHENTICATE ${b64(`${account}\0${account}\0${password}`)}`);
  const got: IrcMessage[] = [];
  for (;;) {
    const m = await client.expect((x) => /^9\d\d$/.test(x.command));
    got.push(m);
    if (m.command === '903' || m.command === '904') return got;
  }
}

const accountIn = async (asker: RawClient, nick: string) => {
  asker.send(`WHOIS ${nick}`);
  const lines = await asker.sync();
  return lines.find(is('330'))?.params[2] ?? null;
};

describe('SASL re-authentication (IRCv3 sasl-3.2: AUTHENTICATE again after logging in)', () => {
  let server: TestServer;
  const open: RawClient[] = [];
  before(async () => {
    server = await startTestServer({ accounts: { scrypt_log_n: 10 } });
    for (const name of ['reauthalice', 'reauthbob']) await registerAccount(server.port, name, `${name}-password`);
  });
  after(async () => {
    for (const client of open) client.close();
    await server.stop();
  });

  it('moves the session to the new account: 900 and 903, ACCOUNT to account-notify members, WHOIS; a failure keeps the account', async () => {
    const client = await loginClient(server.port, 'switcher', 'reauthalice', 'reauthalice-password');
    const watcher = await RawClient.register(server.port, 'reauthwatch', ['account-notify']);
    open.push(client, watcher);
    await join(client, '#reauth');
    await join(watcher, '#reauth');
    assert.equal(await accountIn(watcher, 'switcher'), 'reauthalice');

    const switched = await saslPlainReply(client, 'reauthbob', 'reauthbob-password');
    assert.deepEqual(switched.map((m: IrcMessage) => m.command), ['900', '903']);
    assert.equal(switched[0]!.params[2], 'reauthbob');
    const notice = await watcher.expect(is('ACCOUNT'));
    assert.deepEqual([notice.source?.split('!')[0], notice.params[0]], ['switcher', 'reauthbob']);
    assert.equal(await accountIn(watcher, 'switcher'), 'reauthbob');

    const failed = await saslPlainReply(client, 'reauthalice', 'wrong password');
    assert.deepEqual(failed.map((m: IrcMessage) => m.command), ['904']);
    assert.equal(await accountIn(watcher, 'switcher'), 'reauthbob', 'a failed attempt changes nothing');

    // The same account again: 900 and 903, and no one else is told anything.
    const same = await saslPlainReply(client, 'reauthbob', 'reauthbob-password');
    assert.deepEqual(same.map((m: IrcMessage) => m.command), ['900', '903']);
    assert.ok(!(await watcher.sync()).some(is('ACCOUNT')));
  });

  it("re-authenticating away from the account a nick is registered to gives the nick up (strict nick protection)", async () => {
    const client = await loginClient(server.port, 'reauthalice', 'reauthalice', 'reauthalice-password');
    open.push(client);
    const result = await saslPlainReply(client, 'reauthbob', 'reauthbob-password');
    assert.deepEqual(result.map((m: IrcMessage) => m.command), ['900', '903']);
    const renamed = await client.expect(is('NICK'));
    assert.match(renamed.params[0]!, /^Guest\d+$/);
  });
});
