import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loginClient, registerAccount } from '../helpers/accounts.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer } from '../helpers/server.js';

const fromChanServ = (text: RegExp) => (m: { command: string; source?: string; params: string[] }) =>
  m.command === 'NOTICE' && m.source?.startsWith('ChanServ!') === true && text.test(m.params[1] ?? '');

describe('ChanServ room registration', () => {
  it('keeps topic, modes, bans, exceptions and operators across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-chanserv-'));
    const config = { data_dir: dataDir, accounts: { scrypt_log_n: 10 } };

    let server = await startTestServer(config);
    await registerAccount(server.port, 'founder', 'founder-password');
    await registerAccount(server.port, 'helper', 'helper-password');
    const founder = await loginClient(server.port, 'founder', 'founder', 'founder-password');
    founder.send('JOIN #kept');
    await founder.expectCommand('366');
    founder.send('PRIVMSG ChanServ :REGISTER #kept');
    await founder.expect(fromChanServ(/now registered/));
    founder.send('TOPIC #kept :We remember');
    founder.send('MODE #kept +mk-t sesame');
    founder.send('MODE #kept +b troll!*@*');
    founder.send('MODE #kept +eI $a:helper friend!*@*');
    founder.send('PRIVMSG ChanServ :OP #kept ADD helper');
    await founder.expect(fromChanServ(/will get operator status/));
    await founder.sync();
    founder.close();
    await server.stop();

    server = await startTestServer(config);
    try {
      // Someone else creating the room first does not get operator status in a registered room.
      const guest = await RawClient.register(server.port, 'guest');
      guest.send('JOIN #kept sesame');
      const names = await guest.expectCommand('353');
      assert.equal(names.params[3], 'guest');
      const topic = await RawClient.register(server.port, 'reader');
      topic.send('JOIN #kept sesame');
      assert.equal((await topic.expectCommand('332')).params[2], 'We remember');
      topic.send('MODE #kept');
      assert.deepEqual((await topic.expectCommand('324')).params.slice(2), ['+mnk', 'sesame']);
      topic.send('MODE #kept b');
      assert.equal((await topic.expectCommand('367')).params[2], 'troll!*@*');

      const helper = await loginClient(server.port, 'helper', 'helper', 'helper-password');
      helper.send('JOIN #kept sesame');
      const helperNames = await helper.expectCommand('353');
      assert.ok(helperNames.params[3]!.split(' ').includes('@helper'), helperNames.params[3]);
      helper.send('MODE #kept e');
      assert.equal((await helper.expectCommand('348')).params[2], '$a:helper');
      helper.send('MODE #kept I');
      assert.equal((await helper.expectCommand('346')).params[2], 'friend!*@*');
      helper.send('PRIVMSG ChanServ :INFO #kept');
      await helper.expect(fromChanServ(/founder founder/));
      for (const c of [guest, topic, helper]) c.close();
    } finally {
      await server.stop();
    }
  });

  it('refuses registration by someone who is not logged in or not an operator', async () => {
    const server = await startTestServer({ accounts: { scrypt_log_n: 10 } });
    try {
      const op = await RawClient.register(server.port, 'anon');
      op.send('JOIN #free');
      await op.expectCommand('366');
      op.send('PRIVMSG ChanServ :REGISTER #free');
      await op.expect(fromChanServ(/Log in/));
      await registerAccount(server.port, 'member', 'member-password');
      const member = await loginClient(server.port, 'member', 'member', 'member-password');
      member.send('JOIN #free');
      await member.expectCommand('366');
      member.send('PRIVMSG ChanServ :REGISTER #free');
      await member.expect(fromChanServ(/must be an operator/));
      for (const c of [op, member]) c.close();
    } finally {
      await server.stop();
    }
  });
});
