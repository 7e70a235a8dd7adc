/**
 * Issue 14 step 2, nicks network-wide: two servers in this process on one Redis prefix (the
 * three-process test is test/integration/cluster-nodes.test.ts). Registration and NICK claim
 * through the shared state; a nick is free again once its holder left; direct messages and
 * WHOIS reach users on the other node.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RawClient } from '../helpers/raw-client.js';
import { redisSkipReason } from '../cluster/redis-helpers.js';
import { twoNodes } from './two-nodes.js';

const skip = await redisSkipReason();
const is = (command: string) => (m: { command: string }) => m.command === command;

describe('nicks across two nodes', { skip }, () => {
  const nodes = twoNodes('nicks');
  const { connect, register } = nodes;

  it('a nick registered on one node is refused with 433 on the other, and free once its holder quits', async () => {
    const alice = await register(nodes.a, 'alice');
    const other = await connect(nodes.b);
    other.send('NICK Alice');
    other.send('USER x 0 * :x');
    const refused = await other.expect(is('433'));
    assert.deepEqual(refused.params.slice(0, 2), ['*', 'Alice']);
    // Still unregistered: another nick completes registration.
    other.send('NICK alice2');
    await other.expect(is('001'));
    alice.send('QUIT :bye');
    await alice.closedByServer();
    // The removal is asynchronous: bounded retries until the nick is free network-wide.
    let taken = false;
    for (let i = 0; i < 50 && !taken; i++) {
      other.send('NICK alice');
      const reply = await other.expect((m) => m.command === 'NICK' || m.command === '433');
      taken = reply.command === 'NICK';
      if (!taken) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(taken, 'alice never became free on the other node');
  });

  it('two clients on two nodes racing for one nick: exactly one registers, the other gets 433', async () => {
    for (let round = 0; round < 10; round++) {
      const nick = `racer${round}`;
      const [x, y] = await Promise.all([connect(nodes.a), connect(nodes.b)]);
      x.send('USER x 0 * :x');
      y.send('USER y 0 * :y');
      await Promise.all([x.sync(), y.sync()]);
      // Both NICKs leave in the same turn of this process.
      x.send(`NICK ${nick}`);
      y.send(`NICK ${nick}`);
      const outcome = (c: RawClient) => c.expect((m) => m.command === '001' || m.command === '433').then((m) => m.command);
      const results = (await Promise.all([outcome(x), outcome(y)])).sort();
      assert.deepEqual(results, ['001', '433'], `round ${round}`);
      x.send('QUIT');
      y.send('QUIT');
    }
  });

  it('NICK after registration: a nick held on the other node gets 433; a free one is taken network-wide', async () => {
    const bob = await register(nodes.a, 'bob');
    const carol = await register(nodes.b, 'carol');
    carol.send('NICK Bob');
    await carol.expect(is('433'));
    bob.send('NICK bobby');
    await bob.expect(is('NICK'));
    // bob is free now, bobby is not.
    carol.send('NICK bob');
    const change = await carol.expect(is('NICK'));
    assert.equal(change.params[0], 'bob');
    const dave = await connect(nodes.a);
    dave.send('NICK BOBBY');
    dave.send('USER d 0 * :d');
    await dave.expect(is('433'));
  });

  it('PRIVMSG, NOTICE and TAGMSG to a user on the other node arrive, echoed with the same msgid; WHOIS sees them', async () => {
    const erin = await register(nodes.a, 'erin', ['echo-message', 'server-time', 'message-tags']);
    const frank = await register(nodes.b, 'frank', ['server-time', 'message-tags']);
    frank.send('AWAY :lunch');
    await frank.expect(is('306'));
    erin.send('@+typing=active TAGMSG frank');
    const tag = await frank.expect(is('TAGMSG'));
    assert.equal(tag.tags?.['+typing'], 'active');
    erin.send('PRIVMSG frank :hello across');
    const echo = await erin.expect(is('PRIVMSG'));
    const got = await frank.expect(is('PRIVMSG'));
    assert.equal(got.params[1], 'hello across');
    assert.equal(got.source, echo.source);
    assert.equal(got.tags?.msgid, echo.tags?.msgid);
    assert.equal(got.tags?.time, echo.tags?.time);
    erin.send('NOTICE frank :a notice');
    assert.equal((await frank.expect(is('NOTICE'))).params[1], 'a notice');
    erin.send('PRIVMSG frank :second');
    const away = await erin.expect(is('301'));
    assert.deepEqual(away.params.slice(1), ['frank', 'lunch']);
    erin.send('WHOIS frank');
    const whois = await erin.expect(is('311'));
    assert.deepEqual(whois.params.slice(1, 4), ['frank', '~frank', '127.0.0.1']);
    await erin.expect(is('318'));
    // Unknown everywhere: 401 for PRIVMSG, none for NOTICE; the order of targets is kept.
    erin.send('PRIVMSG nobody-here,frank :third');
    const replies = await erin.sync();
    assert.deepEqual(replies.map((m) => m.command), ['401', '301', 'PRIVMSG']);
    erin.send('NOTICE nobody-here :x');
    assert.deepEqual((await erin.sync()).map((m) => m.command), []);
  });
});
