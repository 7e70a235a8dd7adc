/**
 * Issue 14, three real nodes: three `parley serve` processes (dist/, built by `npm run build`
 * or `npx tsc -p tsconfig.json`) on one Redis (a key prefix of this run) and one store (a
 * fresh PostgreSQL schema). Direct messages cross nodes for our engine and irc-framework; a
 * nick race across the three has one winner; `kill -9` of a node frees its users' nicks on the
 * others within 10 s (a peer reaps it).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import IRC from 'irc-framework';
import { killStartedServers, startCliServer, type CliServer } from '../helpers/cli-server.js';
import { connected, engineClient, nextEvent } from '../helpers/engine.js';
import { dropSchema, pgSkipReason, randomSchema, TEST_PG_URL } from '../helpers/postgres.js';
import { RawClient } from '../helpers/raw-client.js';
import { dropPrefix, randomPrefix, redisSkipReason, TEST_REDIS_URL } from '../cluster/redis-helpers.js';

const skip = (await redisSkipReason()) || (await pgSkipReason());

interface FrameworkClient {
  connect(options: Record<string, unknown>): void;
  say(target: string, message: string): void;
  quit(message?: string): void;
  on(event: string, listener: (event: { nick?: string; target?: string; message?: string }) => void): void;
  connected: boolean;
}

describe('three parley serve nodes on one Redis and one PostgreSQL', { skip }, () => {
  const prefix = randomPrefix('nodes');
  const schema = randomSchema('nodes');
  const dirs: string[] = [];
  let nodes: CliServer[] = [];
  const clients: RawClient[] = [];

  const startNode = () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-node-'));
    dirs.push(dir);
    return startCliServer(dir, {
      PARLEY_CLUSTER__URL: TEST_REDIS_URL,
      PARLEY_CLUSTER__PREFIX: prefix,
      PARLEY_STORE__URL: TEST_PG_URL,
      PARLEY_STORE__SCHEMA: schema,
      PARLEY_LOG__LEVEL: 'warn',
    });
  };

  before(async () => {
    // One first, so the schema's migrations run once; then the other two side by side.
    nodes.push(await startNode());
    nodes.push(...(await Promise.all([startNode(), startNode()])));
  });
  after(async () => {
    for (const c of clients) c.close();
    killStartedServers();
    await Promise.all(nodes.map((n) => n.exited));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await dropPrefix(TEST_REDIS_URL, prefix);
    await dropSchema(schema);
  });

  const register = async (node: CliServer, nick: string, caps: string[] = []) => {
    const c = await RawClient.register(node.port, nick, caps);
    c.answerPings = true;
    clients.push(c);
    return c;
  };

  it('our engine on node 1 and irc-framework on node 3 talk in direct messages through node 2 and back', async () => {
    const engine = await connected(engineClient(nodes[0]!.port, 'engineuser'));
    const framework = new (IRC as unknown as { Client: new () => FrameworkClient }).Client();
    const registered = new Promise<void>((resolve) => framework.on('registered', () => resolve()));
    framework.connect({ host: '127.0.0.1', port: nodes[2]!.port, nick: 'fwuser', username: 'fwuser', gecos: 'fw', auto_reconnect: false });
    await registered;
    const middle = await register(nodes[1]!, 'middle', ['echo-message', 'server-time', 'message-tags']);
    try {
      const atFramework = new Promise<{ nick?: string; message?: string }>((resolve) => framework.on('privmsg', (e) => e.nick === 'engineuser' && resolve(e)));
      engine.say('fwuser', 'hello from node 1');
      assert.equal((await atFramework).message, 'hello from node 1');

      const atEngine = nextEvent(engine, 'message', (m) => m.sender === 'fwuser');
      framework.say('engineuser', 'hello from node 3');
      assert.equal((await atEngine).text, 'hello from node 3');

      const fromMiddle = nextEvent(engine, 'message', (m) => m.sender === 'middle');
      middle.send('PRIVMSG engineuser :from node 2');
      const echo = await middle.expect((m) => m.command === 'PRIVMSG');
      const got = await fromMiddle;
      assert.equal(got.text, 'from node 2');
      assert.equal(got.msgid, echo.tags?.msgid);
    } finally {
      engine.quit();
      framework.quit();
    }
  });

  it('a nick race over the three nodes: one registers, the other two get 433', async () => {
    for (let round = 0; round < 5; round++) {
      const racers = await Promise.all(nodes.map(async (node) => {
        const c = await RawClient.connect({ port: node.port });
        clients.push(c);
        c.send('USER r 0 * :r');
        await c.sync();
        return c;
      }));
      for (const c of racers) c.send(`NICK contested${round}`);
      const outcomes = await Promise.all(racers.map((c) => c.expect((m) => m.command === '001' || m.command === '433').then((m) => m.command)));
      assert.deepEqual(outcomes.sort(), ['001', '433', '433'], `round ${round}`);
      for (const c of racers) c.send('QUIT');
    }
  });

  it('kill -9 of a node: its users\' nicks are free on the others within 10 s', async (t) => {
    const victim = nodes[2]!;
    await register(victim, 'doomed');
    const probe = await register(nodes[0]!, 'prober');
    probe.send('NICK doomed');
    await probe.expect((m) => m.command === '433');
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    await victim.exited;
    let freed = false;
    for (let i = 0; i < 120 && !freed && Date.now() - killedAt < 12_000; i++) {
      probe.send('NICK doomed');
      const reply = await probe.expect((m) => m.command === 'NICK' || m.command === '433');
      freed = reply.command === 'NICK';
      if (!freed) await new Promise((r) => setTimeout(r, 100));
    }
    const elapsed = Date.now() - killedAt;
    assert.ok(freed, 'the dead node\'s nick was never freed');
    assert.ok(elapsed < 10_000, `nick freed after ${elapsed} ms`);
    t.diagnostic(`kill -9 to nick free on another node: ${elapsed} ms`);
    nodes = nodes.slice(0, 2);
  });
});
