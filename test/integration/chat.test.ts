import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('room chat over TCP', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  it('delivers a room message to every other member with server-time and msgid', async () => {
    const caps = ['server-time', 'message-tags'];
    const [alice, bob, carol] = await Promise.all([
      RawClient.register(server.port, 'alice', caps),
      RawClient.register(server.port, 'bob', caps),
      RawClient.register(server.port, 'carol'),
    ]);
    for (const client of [alice, bob, carol]) {
      client.send('JOIN #lobby');
      await client.expect((m) => m.command === '366');
    }
    await alice.sync();
    alice.send('PRIVMSG #lobby :hello, room');
    const atBob = await bob.expect((m) => m.command === 'PRIVMSG');
    assert.equal(atBob.source, 'alice!~alice@127.0.0.1');
    assert.deepEqual(atBob.params, ['#lobby', 'hello, room']);
    assert.match(atBob.tags?.time ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(atBob.tags?.msgid);
    const atCarol = await carol.expect((m) => m.command === 'PRIVMSG');
    assert.equal(atCarol.tags, undefined, 'a client without caps gets no tags');
    // Without echo-message, the sender does not get its own message back.
    const before = await alice.sync();
    assert.equal(before.filter((m) => m.command === 'PRIVMSG').length, 0);
    for (const client of [alice, bob, carol]) client.close();
  });

  it('tells room members when someone leaves or their socket dies', async () => {
    const [dave, erin] = await Promise.all([RawClient.register(server.port, 'dave'), RawClient.register(server.port, 'erin')]);
    dave.send('JOIN #quits');
    await dave.expect((m) => m.command === '366');
    erin.send('JOIN #quits');
    await erin.expect((m) => m.command === '366');
    await dave.expect((m) => m.command === 'JOIN' && m.source?.startsWith('erin!') === true);
    erin.close();
    const quit = await dave.expect((m) => m.command === 'QUIT');
    assert.ok(quit.source?.startsWith('erin!'));
    assert.match(quit.params[0]!, /Connection/);
    dave.close();
  });
});
