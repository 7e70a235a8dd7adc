import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashPassword } from '../../src/auth/password.js';
import type { IrcMessage } from '../../src/protocol/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { manualClock, startTestServer, type TestServer } from '../helpers/server.js';

const is = (command: string) => (m: IrcMessage) => m.command === command;

/** Connect from `localAddress` as `nick` (USER `user`), expecting to be banned at registration. */
async function expectKlined(port: number, nick: string, user: string, localAddress: string, reason: RegExp): Promise<void> {
  const client = await RawClient.connect({ port, localAddress });
  client.send(`NICK ${nick}`);
  client.send(`USER ${user} 0 * :${nick}`);
  const banned = await client.expect((m) => m.command === '465' || m.command === '001');
  assert.equal(banned.command, '465', `${nick} was let in`);
  assert.match(banned.params[1]!, reason);
  const error = await client.expect(is('ERROR'));
  assert.match(error.params[0]!, /K-Lined/);
  await client.closedByServer();
}

async function expectDlined(port: number, localAddress: string, reason: string): Promise<void> {
  const client = await RawClient.connect({ port, localAddress });
  const error = await client.expect(is('ERROR'));
  assert.equal(error.params[0], `Closing Link: ${localAddress} (D-Lined: ${reason})`);
  await client.closedByServer();
}

async function oper(port: number, nick = 'boss'): Promise<RawClient> {
  const client = await RawClient.register(port, nick);
  client.send('OPER admin operpass');
  await client.expect(is('381'));
  return client;
}

describe('operators: KILL, KLINE, DLINE, STATS', () => {
  const clock = manualClock();
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-bans-'));
  let overrides: Parameters<typeof startTestServer>[0];
  let server: TestServer;
  let admin: RawClient;
  before(async () => {
    overrides = {
      data_dir: dataDir,
      accounts: { scrypt_log_n: 10 },
      opers: [{ name: 'admin', password_hash: await hashPassword('operpass', { N: 1024 }) }],
    };
    server = await startTestServer(overrides, { clock: clock.now });
    admin = await oper(server.port);
  });
  after(async () => {
    admin.close();
    await server.stop();
  });

  it('everyone else gets ERR_NOPRIVILEGES (481)', async () => {
    const user = await RawClient.register(server.port, 'plainuser');
    for (const line of ['KILL boss :bye', 'KLINE *@10.0.0.1', 'UNKLINE *@10.0.0.1', 'DLINE 10.0.0.1', 'UNDLINE 10.0.0.1', 'STATS k', 'STATS d', 'KLINE']) {
      user.send(line);
      const reply = await user.expect((m) => /^\d{3}$/.test(m.command));
      assert.equal(reply.command, '481', line);
    }
    user.send('STATS u');
    assert.match((await user.expect(is('242'))).params[1]!, /^Server Up \d+ days/);
    await user.expect(is('219'));
    user.close();
  });

  it('KILL disconnects a user with the operator and reason; its rooms see why', async () => {
    const victim = await RawClient.register(server.port, 'victim');
    const witness = await RawClient.register(server.port, 'witness');
    for (const client of [victim, witness]) {
      client.send('JOIN #scene');
      await client.expect(is('366'));
    }
    admin.send('KILL victim :being rude');
    assert.match((await victim.expect(is('ERROR'))).params[0]!, /Killed \(admin \(being rude\)\)/);
    await victim.closedByServer();
    assert.deepEqual((await witness.expect(is('QUIT'))).params, ['Killed (admin (being rude))']);
    admin.send('KILL nobody');
    assert.equal((await admin.expect(is('401'))).params[1], 'nobody');
    witness.close();
  });

  it('KLINE disconnects matching users now and refuses them at registration; STATS k lists it; UNKLINE lifts it', async () => {
    const target = await RawClient.register(server.port, 'spammer', [], { localAddress: '127.0.0.2' });
    const bystander = await RawClient.register(server.port, 'bystander', [], { localAddress: '127.0.0.2' });
    admin.send('KLINE 1h ~spammer@127.0.0.* :spamming');
    const notice = await admin.expect(is('NOTICE'));
    assert.equal(notice.params[1], 'Added K-line for [~spammer@127.0.0.*] (1h): spamming; 1 disconnected');
    assert.match((await target.expect(is('465'))).params[1]!, /spamming/);
    assert.match((await target.expect(is('ERROR'))).params[0]!, /K-Lined: spamming/);
    await target.closedByServer();
    await bystander.sync(); // another user at the same address is not matched

    await expectKlined(server.port, 'spammer2', 'spammer', '127.0.0.3', /spamming/);
    const fine = await RawClient.register(server.port, 'notaspammer', [], { localAddress: '127.0.0.3' });

    admin.send('STATS k');
    const [entry] = (await admin.sync()).filter(is('216'));
    assert.deepEqual(entry!.params.slice(1, 5), ['K', '127.0.0.*', '*', '~spammer']);
    assert.match(entry!.params[5]!, /^spamming \(expires in 59m5\ds|^spamming \(expires in 1h\)/);

    admin.send('UNKLINE ~spammer@127.0.0.*');
    assert.match((await admin.expect(is('NOTICE'))).params[1]!, /Removed K-line/);
    const back = await RawClient.register(server.port, 'spammer', [], { localAddress: '127.0.0.2' });
    admin.send('UNKLINE ~spammer@127.0.0.*');
    const fail = await admin.expect(is('FAIL'));
    assert.deepEqual(fail.params.slice(0, 3), ['UNKLINE', 'NO_SUCH_BAN', '~spammer@127.0.0.*']);
    for (const client of [bystander, fine, back]) client.close();
  });

  it('a KLINE by nick bans that user\'s address; a timed one ends when its time is up', async () => {
    const target = await RawClient.register(server.port, 'tempnick', [], { localAddress: '127.0.0.4' });
    admin.send('KLINE 10m tempnick :cool down');
    assert.match((await admin.expect(is('NOTICE'))).params[1]!, /^Added K-line for \[\*@127\.0\.0\.4\] \(10m\)/);
    await target.closedByServer();
    await expectKlined(server.port, 'tempnick', 'anyone', '127.0.0.4', /cool down/);
    clock.advance(10 * 60_000);
    const back = await RawClient.register(server.port, 'tempnick', [], { localAddress: '127.0.0.4' });
    back.close();
  });

  it('refuses masks that are malformed or would match everyone', async () => {
    for (const [line, command] of [['KLINE *@*', 'KLINE'], ['KLINE 1h *', 'KLINE'], ['DLINE 0.0.0.0/0', 'DLINE'], ['DLINE not-an-ip', 'DLINE']] as const) {
      admin.send(line);
      const fail = await admin.expect(is('FAIL'));
      assert.deepEqual(fail.params.slice(0, 2), [command, 'INVALID_PARAMS'], line);
    }
  });

  it('DLINE drops every connection from the network, registered or not, and refuses new ones at accept', async () => {
    const registered = await RawClient.register(server.port, 'dlined', [], { localAddress: '127.0.0.5' });
    const unregistered = await RawClient.connect({ port: server.port, localAddress: '127.0.0.5' });
    admin.send('DLINE 127.0.0.5/32 :go away');
    assert.equal((await admin.expect(is('NOTICE'))).params[1], 'Added D-line for [127.0.0.5] (permanent): go away; 2 disconnected');
    assert.match((await registered.expect(is('ERROR'))).params[0]!, /D-Lined: go away/);
    await Promise.all([registered.closedByServer(), unregistered.closedByServer()]);
    await expectDlined(server.port, '127.0.0.5', 'go away');
    const neighbour = await RawClient.register(server.port, 'neighbour', [], { localAddress: '127.0.0.6' });

    admin.send('STATS d');
    const entries = (await admin.sync()).filter(is('225')).map((m) => m.params.slice(1));
    assert.deepEqual(entries, [['D', '127.0.0.5', 'go away']]);
    neighbour.close();
  });

  it('bans survive a restart; UNDLINE lifts one', async () => {
    admin.send('KLINE ~persist@* :still banned');
    await admin.expect(is('NOTICE'));
    admin.close();
    await server.stop();

    server = await startTestServer(overrides, { clock: clock.now });
    await expectDlined(server.port, '127.0.0.5', 'go away');
    await expectKlined(server.port, 'persist', 'persist', '127.0.0.7', /still banned/);
    admin = await oper(server.port);
    admin.send('UNDLINE 127.0.0.5');
    assert.match((await admin.expect(is('NOTICE'))).params[1]!, /Removed D-line for \[127\.0\.0\.5\]/);
    const back = await RawClient.register(server.port, 'returned', [], { localAddress: '127.0.0.5' });
    back.close();
  });
});
