// WHOWAS, USERHOST and ISON over real sockets, with irc-framework as an independent WHOWAS client.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import IRC from 'irc-framework';
import { hashPassword } from '../../src/auth/password.js';
import type { IrcMessage } from '../../src/protocol/index.js';
import { loginClient, registerAccount } from '../helpers/accounts.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const SERVER = 'parley.local';
/** The reply to `line`: [command, ...params without the client]. */
async function ask(client: RawClient, line: string): Promise<string[][]> {
  client.send(line);
  return (await client.sync()).map((m: IrcMessage) => [m.command, ...m.params.slice(1)]);
}

interface WhowasEvent {
  nick: string;
  ident?: string;
  hostname?: string;
  real_name?: string;
  account?: string;
  server?: string;
  error?: string;
  whowas?: { nick: string; ident: string; real_name: string }[];
}
interface FrameworkClient {
  connect(options: Record<string, unknown>): void;
  whowas(target: string, ...args: unknown[]): void;
  once(event: string, listener: () => void): void;
  quit(message?: string): void;
}

describe('user queries', () => {
  let server: TestServer;
  let asker: RawClient;
  before(async () => {
    server = await startTestServer({
      accounts: { scrypt_log_n: 10 },
      opers: [{ name: 'op', password_hash: await hashPassword('op-password', { N: 1024 }) }],
    });
    asker = await RawClient.register(server.port, 'asker');
  });
  after(async () => {
    asker.close();
    await server.stop();
  });

  it('WHOWAS: nick changes and quits, newest first, with the count; 406 for none', async () => {
    const first = await RawClient.register(server.port, 'wanda');
    first.send('NICK wanda2');
    await first.expectCommand('NICK');
    first.send('QUIT :bye');
    await first.closedByServer();
    const second = await RawClient.connect({ port: server.port });
    second.send('NICK wanda');
    second.send('USER second 0 * :Second Wanda');
    await second.expect((m) => m.command === '376' || m.command === '422');
    second.send('QUIT');
    await second.closedByServer();
    await asker.sync();

    const at = (r: string[]) => Date.parse(r[3]!);
    const all = await ask(asker, 'WHOWAS Wanda');
    assert.deepEqual(all.map((r) => r[0]), ['314', '312', '314', '312', '369']);
    assert.deepEqual(all[0], ['314', 'wanda', '~second', '127.0.0.1', '*', 'Second Wanda']);
    assert.deepEqual(all[2], ['314', 'wanda', '~wanda', '127.0.0.1', '*', 'wanda Test']);
    assert.deepEqual(all[1]!.slice(0, 3), ['312', 'wanda', SERVER]);
    assert.ok(at(all[1]!) >= at(all[3]!) && Math.abs(at(all[1]!) - Date.now()) < 5000, 'the time the nick was given up');
    assert.deepEqual(all[4], ['369', 'Wanda', 'End of WHOWAS']);

    assert.deepEqual((await ask(asker, 'WHOWAS wanda 1')).map((r) => r[0]), ['314', '312', '369']);
    // A count that is not positive means all of them (modern.ircdocs.horse).
    assert.equal((await ask(asker, 'WHOWAS wanda 0')).length, 5);
    assert.equal((await ask(asker, 'WHOWAS wanda -1')).length, 5);
    assert.deepEqual((await ask(asker, 'WHOWAS wanda2 5 *.local')).map((r) => r[0]), ['314', '312', '369']);
    assert.deepEqual(await ask(asker, 'WHOWAS nobody'), [
      ['406', 'nobody', 'There was no such nickname'],
      ['369', 'nobody', 'End of WHOWAS'],
    ]);
    assert.deepEqual(await ask(asker, 'WHOWAS'), [['431', 'No nickname given']]);
    assert.deepEqual(await ask(asker, 'WHOWAS wanda 1 elsewhere'), [['402', 'elsewhere', 'No such server']]);
  });

  it('WHOWAS shows the account of a user who was logged in', async () => {
    await registerAccount(server.port, 'acct', 'acct-password');
    const user = await loginClient(server.port, 'acct', 'acct', 'acct-password');
    user.send('NICK acct_away');
    await user.expectCommand('NICK');
    assert.deepEqual((await ask(asker, 'WHOWAS acct')).slice(0, 2), [
      ['314', 'acct', '~acct', '127.0.0.1', '*', 'acct'],
      ['330', 'acct', 'acct', 'was logged in as'],
    ]);
    user.close();
  });

  it('WHOWAS through irc-framework', async () => {
    const gone = await RawClient.register(server.port, 'fwgone');
    gone.send('QUIT');
    await gone.closedByServer();
    await asker.sync();
    const client = new (IRC as unknown as { Client: new () => FrameworkClient }).Client();
    const registered = new Promise<void>((resolve) => client.once('registered', resolve));
    client.connect({ host: '127.0.0.1', port: server.port, nick: 'fwasker', username: 'fwasker', gecos: 'fw', auto_reconnect: false });
    await registered;
    try {
      const found = await new Promise<WhowasEvent>((resolve) => client.whowas('fwgone', resolve));
      assert.equal(found.nick, 'fwgone');
      assert.equal(found.ident, '~fwgone');
      assert.equal(found.hostname, '127.0.0.1');
      assert.equal(found.real_name, 'fwgone Test');
      assert.equal(found.server, SERVER);
      assert.equal(found.whowas?.length, 1);
      const missing = await new Promise<WhowasEvent>((resolve) => client.whowas('neverwas', resolve));
      assert.equal(missing.error, 'no_such_nick');
    } finally {
      client.quit();
    }
  });

  it('USERHOST: up to five nicks, * for operators, - when away, unknown nicks left out', async () => {
    const oper = await RawClient.register(server.port, 'uhop');
    oper.send('OPER op op-password');
    await oper.expectCommand('381');
    const away = await RawClient.register(server.port, 'uhaway');
    away.send('AWAY :lunch');
    await away.expectCommand('306');
    assert.deepEqual(await ask(asker, 'USERHOST uhop UHAWAY nosuch asker'), [
      ['302', 'uhop*=+~uhop@127.0.0.1 uhaway=-~uhaway@127.0.0.1 asker=+~asker@127.0.0.1'],
    ]);
    const six = await ask(asker, 'USERHOST a b c d e asker');
    assert.deepEqual(six, [['302', '']], 'the sixth nick is not looked at');
    assert.deepEqual(await ask(asker, 'USERHOST'), [['461', 'USERHOST', 'Not enough parameters']]);
    oper.close();
    away.close();
  });

  it('ISON: the nicks online as spelled now, from separate or one trailing parameter', async () => {
    const on = await RawClient.register(server.port, 'IsOn');
    assert.deepEqual(await ask(asker, 'ISON ison nobody asker'), [['303', 'IsOn asker']]);
    assert.deepEqual(await ask(asker, 'ISON :nobody ISON ison'), [['303', 'IsOn']]);
    assert.deepEqual(await ask(asker, 'ISON nobody'), [['303', '']]);
    assert.deepEqual(await ask(asker, 'ISON'), [['461', 'ISON', 'Not enough parameters']]);
    on.close();
  });
});
