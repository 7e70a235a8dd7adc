import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hashPassword } from '../../src/auth/password.js';
import type { IrcMessage } from '../../src/protocol/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { is, join } from '../helpers/fixture.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const lineOf = (m: IrcMessage) => `${m.source?.split('!')[0] ?? ''} ${m.command} ${m.params.join(' ')}`;

describe('CHGHOST (IRCv3 chghost) and the operator command that changes a host', () => {
  let server: TestServer;
  const open: RawClient[] = [];
  const register = async (nick: string, caps: string[] = []) => {
    const client = await RawClient.register(server.port, nick, caps);
    open.push(client);
    return client;
  };
  before(async () => {
    server = await startTestServer({ opers: [{ name: 'op', password_hash: await hashPassword('op-password', { N: 1024 }) }] });
  });
  after(async () => {
    for (const client of open) client.close();
    await server.stop();
  });

  it('capable members get CHGHOST from the old prefix; others see QUIT, JOIN and the modes again; WHOIS and the user see the host', async () => {
    const oper = await register('hostoper');
    oper.send('OPER op op-password');
    await oper.expect(is('381'));
    const target = await register('vhosted', ['chghost']);
    const modern = await register('modern', ['chghost']);
    const legacy = await register('legacy', ['extended-join', 'away-notify']);
    await join(target, '#vhost');
    await join(target, '#second');
    for (const c of [modern, legacy]) {
      await join(c, '#vhost');
      await join(c, '#second');
    }
    target.send('AWAY :brb');
    await target.expect(is('306'));
    await legacy.sync();
    oper.send('CHGHOST vhosted staff/vhosted');
    await oper.expect((m) => m.command === 'NOTICE' && /staff\/vhosted/.test(m.params.at(-1)!));

    assert.deepEqual(lineOf(await target.expect(is('396'))), 'parley.local 396 vhosted staff/vhosted is now your displayed host');
    const own = await target.expect(is('CHGHOST'));
    assert.deepEqual([own.source, own.params], ['vhosted!~vhosted@127.0.0.1', ['~vhosted', 'staff/vhosted']]);

    const seen = await modern.expect(is('CHGHOST'));
    assert.deepEqual([seen.source, seen.params], ['vhosted!~vhosted@127.0.0.1', ['~vhosted', 'staff/vhosted']]);
    assert.ok(!(await modern.sync()).some((m) => m.command === 'CHGHOST' || m.command === 'QUIT'), 'once, whatever the rooms shared');

    const shown = (await legacy.sync()).map((m) => `${m.source} ${m.command} ${m.params.join(' ')}`);
    assert.deepEqual(shown, [
      'vhosted!~vhosted@127.0.0.1 QUIT Changing host',
      'vhosted!~vhosted@staff/vhosted JOIN #vhost * vhosted Test',
      'parley.local MODE #vhost +o vhosted',
      'vhosted!~vhosted@staff/vhosted AWAY brb',
      'vhosted!~vhosted@staff/vhosted JOIN #second * vhosted Test',
      'parley.local MODE #second +o vhosted',
      'vhosted!~vhosted@staff/vhosted AWAY brb',
    ]);
    legacy.send('WHOIS vhosted');
    assert.equal((await legacy.expect(is('311'))).params[3], 'staff/vhosted');
    // Messages come from the new prefix.
    target.send('PRIVMSG #vhost :from my new host');
    const said = await legacy.expect(is('PRIVMSG'));
    assert.equal(said.source, 'vhosted!~vhosted@staff/vhosted');
  });

  it('operators only (481); a bad host is FAIL CHGHOST INVALID_PARAMS; an unknown nick 401', async () => {
    const plain = await register('hostplain');
    plain.send('CHGHOST hostplain my.own.host');
    await plain.expect(is('481'));
    const oper = await register('hostoper2');
    oper.send('OPER op op-password');
    await oper.expect(is('381'));
    for (const bad of ['-starts.with.dash', 'has space', 'a@b', 'x'.repeat(64), ':colon', 'bad!nick', '\u00e9t\u00e9']) {
      oper.send(`CHGHOST hostplain :${bad}`);
      const fail = await oper.expect((m) => m.command === 'FAIL' || m.command === 'NOTICE');
      assert.deepEqual(fail.params.slice(0, 2), ['CHGHOST', 'INVALID_PARAMS'], bad);
    }
    oper.send('CHGHOST nobodyhere some.host');
    await oper.expect((m) => m.command === '401' && m.params[1] === 'nobodyhere');
    plain.send('WHOIS hostplain');
    assert.equal((await plain.expect(is('311'))).params[3], '127.0.0.1', 'unchanged');
  });
});
