// MONITOR and extended-monitor on one server (ircv3.net/specs/extensions/monitor), over real
// sockets: raw clients, and irc-framework as an independent peer. Across nodes:
// test/cluster-core/network-log.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import IRC from 'irc-framework';
import type { IrcMessage } from '../../src/protocol/index.js';
import { NETWORK_LOG } from '../../src/core/network-log.js';
import { b64, registerAccount } from '../helpers/accounts.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const is = (command: string) => (m: IrcMessage) => m.command === command;
/** The replies to `line` (up to a PING round trip), as [command, ...params after the nick]. */
async function ask(client: RawClient, line: string): Promise<string[][]> {
  client.send(line);
  return (await client.sync()).map((m) => [m.command, ...m.params.slice(1)]);
}

describe('MONITOR', () => {
  let server: TestServer;
  const clients: RawClient[] = [];
  const register = async (nick: string, caps: string[] = []) => {
    const c = await RawClient.register(server.port, nick, caps);
    clients.push(c);
    return c;
  };
  before(async () => {
    server = await startTestServer({ limits: { monitor_targets: 5 }, accounts: { scrypt_log_n: 10 } });
  });
  after(async () => {
    for (const c of clients) c.close();
    await server.stop();
  });

  it('advertises MONITOR=<limit> and the extended-monitor capability', async () => {
    const c = await RawClient.connect({ port: server.port });
    clients.push(c);
    assert.ok((await c.capLs()).includes('extended-monitor'));
    c.send('NICK isup');
    c.send('USER isup 0 * :i');
    c.send('CAP END');
    const tokens: string[] = [];
    for (;;) {
      const m = await c.expect((x) => x.command === '005' || x.command === '376' || x.command === '422');
      if (m.command !== '005') break;
      tokens.push(...m.params.slice(1, -1));
    }
    assert.ok(tokens.includes('MONITOR=5'), tokens.join(' '));
  });

  it('answers + with 730/731, then tells sign-on, nick change and sign-off', async () => {
    const watcher = await register('mwatch');
    assert.deepEqual(await ask(watcher, 'MONITOR + mtarget,MNEW'), [['731', 'mtarget,MNEW']]);
    const target = await register('mtarget');
    const online = await watcher.expect(is('730'));
    assert.equal(online.source, server.server.name);
    assert.deepEqual(online.params, ['mwatch', 'mtarget!~mtarget@127.0.0.1']);

    target.send('NICK mnew');
    assert.deepEqual((await watcher.expect(is('731'))).params, ['mwatch', 'mtarget']);
    assert.deepEqual((await watcher.expect(is('730'))).params, ['mwatch', 'mnew!~mtarget@127.0.0.1']);
    assert.deepEqual(await ask(watcher, 'MONITOR S'), [['730', 'mnew!~mtarget@127.0.0.1'], ['731', 'mtarget']]);

    target.send('QUIT :bye');
    assert.deepEqual((await watcher.expect(is('731'))).params, ['mwatch', 'mnew']);
    // Told once: a second look finds nothing new.
    assert.deepEqual((await watcher.sync()).filter((m) => m.command.startsWith('73')), []);
  });

  it('L lists, - removes, C clears; case-folded, repeated adds count once', async () => {
    const c = await register('mlist');
    await ask(c, 'MONITOR + Alpha,beta,ALPHA,alpha');
    assert.deepEqual(await ask(c, 'MONITOR + alpha'), [['731', 'alpha']], 'a repeated add is answered, not added');
    assert.deepEqual(await ask(c, 'MONITOR L'), [['732', 'Alpha,beta'], ['733', 'End of MONITOR list']]);
    assert.deepEqual(await ask(c, 'MONITOR - ALPHA'), []);
    assert.deepEqual(await ask(c, 'MONITOR L'), [['732', 'beta'], ['733', 'End of MONITOR list']]);
    assert.deepEqual(await ask(c, 'MONITOR C'), []);
    assert.deepEqual(await ask(c, 'MONITOR L'), [['733', 'End of MONITOR list']]);
    assert.deepEqual(await ask(c, 'MONITOR S'), []);
  });

  it('refuses what is not a nick, bad subcommands and missing targets', async () => {
    const c = await register('minvalid');
    const long = 'n'.repeat(server.server.config.limits.nick_length + 1);
    assert.deepEqual(await ask(c, `MONITOR + #room,bad!nick,,${long},good`), [['731', 'good']]);
    assert.deepEqual(await ask(c, 'MONITOR L'), [['732', 'good'], ['733', 'End of MONITOR list']]);
    assert.deepEqual(await ask(c, 'MONITOR +'), [['461', 'MONITOR', 'Not enough parameters']]);
    assert.deepEqual(await ask(c, 'MONITOR'), [['461', 'MONITOR', 'Not enough parameters']]);
    const fail = await ask(c, 'MONITOR X');
    assert.equal(fail[0]![0], 'FAIL');
    assert.deepEqual(await ask(c, 'MONITOR C'), []);
  });

  it('enforces the limit with 734 naming what was not added, and survives hostile lines', async () => {
    const c = await register('mfull');
    const replies = await ask(c, 'MONITOR + f1,f2,f3,f4,f5,f6,f7');
    assert.deepEqual(replies, [['734', '5', 'f6,f7', 'Monitor list is full.'], ['731', 'f1,f2,f3,f4,f5']]);
    assert.deepEqual(await ask(c, 'MONITOR + f1'), [['731', 'f1']], 'already there: no place taken');
    assert.deepEqual((await ask(c, 'MONITOR + f8'))[0]!.slice(0, 3), ['734', '5', 'f8']);

    // 10,000 nicks in one line: far past the 512-byte line, refused before parsing.
    const many = Array.from({ length: 10_000 }, (_, i) => `h${i}`).join(',');
    assert.deepEqual((await ask(c, `MONITOR + ${many}`))[0]![0], '417');
    // As many as fit in a line: the first cut at the limit, the reply within 512 bytes.
    await ask(c, 'MONITOR C');
    const fit = Array.from({ length: 120 }, (_, i) => `x${i}`).join(',');
    const full = await ask(c, `MONITOR + ${fit}`);
    const refused = full.find((r) => r[0] === '734')!;
    assert.equal(refused[2]!.split(',')[0], 'x5');
    assert.deepEqual((await ask(c, 'MONITOR L'))[0], ['732', 'x0,x1,x2,x3,x4']);
  });

  it('forgets a watcher that quits (the index is cleaned)', async () => {
    const before = server.server.monitor.size;
    const c = await RawClient.register(server.port, 'mgone');
    await ask(c, 'MONITOR + g1,g2,g3');
    assert.equal(server.server.monitor.size, before + 3);
    c.send('QUIT');
    await c.closedByServer();
    // The QUIT was handled before the socket closed: nothing of it is left.
    const probe = await register('mprobe');
    await probe.sync();
    assert.equal(server.server.monitor.size, before);
    assert.ok(!server.server.monitor.nicks().includes('g1'));
  });

  it('extended-monitor: AWAY, ACCOUNT and SETNAME to watchers who asked, once when they share a room', async () => {
    const ext = await register('mext', ['extended-monitor', 'away-notify', 'setname']);
    const plain = await register('mplain', ['away-notify']);
    const shared = await register('mshare', ['extended-monitor', 'away-notify']);
    for (const c of [ext, plain, shared]) await ask(c, 'MONITOR + mwho');
    const who = await register('mwho', ['setname']);
    await ext.expect(is('730'));
    who.send('JOIN #mext');
    shared.send('JOIN #mext');
    await shared.expect((m) => m.command === 'JOIN' && m.source!.startsWith('mshare!'));
    await who.sync();

    who.send('AWAY :lunch');
    const away = await ext.expect(is('AWAY'));
    assert.equal(away.source, 'mwho!~mwho@127.0.0.1');
    assert.deepEqual(away.params, ['lunch']);
    who.send('SETNAME :New Name');
    assert.deepEqual((await ext.expect(is('SETNAME'))).params, ['New Name']);
    who.send('AWAY');
    assert.deepEqual((await ext.expect(is('AWAY'))).params, []);
    await who.sync();
    const sharedSaw = (await shared.sync()).filter(is('AWAY'));
    assert.equal(sharedSaw.length, 2, 'through the room only, not twice');
    assert.ok((await plain.sync()).every((m) => m.command !== 'AWAY'), 'no extended-monitor: nothing');
  });

  it('extended-monitor: ACCOUNT when a watched user logs in after registration, with account-notify only', async () => {
    await registerAccount(server.port, 'macct', 'monitor-password');
    const ext = await register('maccw', ['extended-monitor', 'account-notify']);
    const noCap = await register('maccn', ['extended-monitor']);
    for (const c of [ext, noCap]) await ask(c, 'MONITOR + mlogin');
    const who = await register('mlogin', ['sasl']);
    await ext.expect(is('730'));
    who.send('AUTHENTICATE PLAIN');
    await who.expect((m) => m.command === 'AUTHENTICATE');
    who.send(`AUTHENTICATE ${b64('macct\0macct\0monitor-password')}`);
    await who.expect(is('903'));
    const account = await ext.expect(is('ACCOUNT'));
    assert.equal(account.source, 'mlogin!~mlogin@127.0.0.1');
    assert.deepEqual(account.params, ['macct']);
    assert.ok((await noCap.sync()).every((m) => m.command !== 'ACCOUNT'), 'no account-notify: nothing');
  });

  it('no client command can name the network log (~network is no room and no nick)', async () => {
    const c = await register('mprober');
    await c.sync();
    const bus = server.server.cluster.bus;
    const before = bus.position(NETWORK_LOG);
    const replies: string[] = [];
    for (const line of ['JOIN ~network', 'PRIVMSG ~network :x', 'NOTICE ~network :x', 'TAGMSG ~network', 'TOPIC ~network :t', 'NAMES ~network', 'MODE ~network +m', 'KICK ~network mprober', 'INVITE mprober ~network', 'PART ~network', 'CHATHISTORY LATEST ~network * 10', 'WHO ~network', 'MONITOR + ~network']) {
      replies.push(...(await ask(c, line)).map((r) => r[0]!));
    }
    assert.equal(bus.position(NETWORK_LOG), before, 'nothing published into it');
    assert.ok(!bus.following().some((room) => room !== NETWORK_LOG && room.includes('network')));
    assert.ok(replies.length > 0 && replies.every((code) => /^\d{3}$|^FAIL$/.test(code)), replies.join(' '));
  });

  it('irc-framework sees users online and offline and reads the list', async () => {
    const client = new (IRC as unknown as { Client: new () => FrameworkClient }).Client();
    const registered = new Promise<void>((resolve) => client.once('registered', resolve));
    client.connect({ host: '127.0.0.1', port: server.port, nick: 'mframe', username: 'fw', gecos: 'fw', auto_reconnect: false });
    await registered;
    const offline = new Promise<string[]>((resolve) => client.once('users offline', (e: { nicks: string[] }) => resolve(e.nicks)));
    client.addMonitor('mfriend');
    assert.deepEqual(await offline, ['mfriend']);
    const online = new Promise<string[]>((resolve) => client.once('users online', (e: { nicks: string[] }) => resolve(e.nicks)));
    const friend = await register('mfriend');
    assert.deepEqual(await online, ['mfriend']);
    const list = await new Promise<string[]>((resolve) => client.monitorlist((e: { nicks: string[] }) => resolve(e.nicks)));
    assert.deepEqual(list, ['mfriend']);
    const gone = new Promise<string[]>((resolve) => client.once('users offline', (e: { nicks: string[] }) => resolve(e.nicks)));
    friend.send('QUIT');
    assert.deepEqual(await gone, ['mfriend']);
    client.quit();
  });
});

interface FrameworkClient {
  connect(options: Record<string, unknown>): void;
  once(event: string, listener: (...args: never[]) => void): void;
  addMonitor(target: string): void;
  monitorlist(cb: (event: { nicks: string[] }) => void): void;
  quit(): void;
}
