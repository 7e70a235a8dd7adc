/**
 * Issue 14, three real nodes: three `parley serve` processes (dist/, built by `npm run build`
 * or `npx tsc -p tsconfig.json`) on one Redis (a key prefix of this run) and one store (a
 * fresh PostgreSQL schema). Direct messages cross nodes for our engine and irc-framework; a
 * nick race across the three has one winner; a room with members on all three gets one order
 * everywhere, the one CHATHISTORY returns; two ops racing +l/-l on two nodes end the same
 * everywhere; `kill -9` of a node frees its users' nicks on the others within 10 s (a peer
 * reaps it), its users' QUITs reach the others' rooms, and every message it echoed is in history.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import IRC from 'irc-framework';
import type { CliServer } from '../helpers/cli-server.js';
import { cliNetwork } from '../helpers/cli-network.js';
import { connected, engineClient, nextEvent } from '../helpers/engine.js';
import { pgSkipReason } from '../helpers/postgres.js';
import { RawClient } from '../helpers/raw-client.js';
import type { IrcMessage } from '../../src/protocol/index.js';
import { redisSkipReason } from '../cluster/redis-helpers.js';

const skip = (await redisSkipReason()) || (await pgSkipReason());

interface FrameworkClient {
  connect(options: Record<string, unknown>): void;
  join(room: string): void;
  say(target: string, message: string): void;
  quit(message?: string): void;
  on(event: string, listener: (event: { nick?: string; target?: string; message?: string; channel?: string }) => void): void;
  connected: boolean;
}

describe('three parley serve nodes on one Redis and one PostgreSQL', { skip }, () => {
  const network = cliNetwork('nodes', 3);
  const nodes = network.first;
  const clients: RawClient[] = [];
  network.closeAfter(() => clients.forEach((c) => c.close()));

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

  const said = (m: IrcMessage) => m.command === 'PRIVMSG';
  const history = async (c: RawClient, room: string) => {
    c.send(`CHATHISTORY LATEST ${room} * 100`);
    const lines: IrcMessage[] = [];
    await c.expect((m) => m.command === 'BATCH' && m.params[0]!.startsWith('+'));
    for (let m = await c.expect(() => true); !(m.command === 'BATCH' && m.params[0]!.startsWith('-')); m = await c.expect(() => true)) {
      if (said(m)) lines.push(m);
    }
    return lines.map((m) => `${m.source?.split('!')[0]} ${m.params[1]} ${m.tags?.msgid}`);
  };
  const CAPS = ['echo-message', 'server-time', 'message-tags', 'batch', 'draft/chathistory'];

  it('a room with members on all three nodes (engine, irc-framework, raw) gets one order everywhere, the one CHATHISTORY returns', async () => {
    const raws = await Promise.all(nodes.map((node, i) => register(node, `roomraw${i}`, CAPS)));
    for (const c of raws) {
      c.send('JOIN #everywhere');
      await c.expect((m) => m.command === '366');
    }
    const engine = await connected(engineClient(nodes[1]!.port, 'roomengine'));
    const engineJoined = nextEvent(engine, 'names', (n) => n.room === '#everywhere');
    engine.join('#everywhere');
    await engineJoined;
    const framework = new (IRC as unknown as { Client: new () => FrameworkClient }).Client();
    const registered = new Promise<void>((resolve) => framework.on('registered', () => resolve()));
    framework.connect({ host: '127.0.0.1', port: nodes[2]!.port, nick: 'roomfw', username: 'roomfw', gecos: 'fw', auto_reconnect: false });
    await registered;
    const fwJoined = new Promise<void>((resolve) => framework.on('join', (e) => e.nick === 'roomfw' && resolve()));
    framework.join('#everywhere');
    await fwJoined;
    const TOTAL = 60;
    const atEngine: string[] = [];
    const atFramework: string[] = [];
    engine.on('message', (m) => m.conversation === '#everywhere' && atEngine.push(`${m.sender} ${m.text}`));
    framework.on('privmsg', (e) => e.target === '#everywhere' && atFramework.push(`${e.nick} ${e.message}`));
    try {
      // Every raw client sends at once, so the three nodes publish interleaved.
      for (let i = 0; i < TOTAL; i++) raws[i % 3]!.send(`PRIVMSG #everywhere :m${i}`);
      const seen = await Promise.all(raws.map(async (c) => {
        const got: string[] = [];
        while (got.length < TOTAL) {
          const m = await c.expect(said, 10_000);
          got.push(`${m.source?.split('!')[0]} ${m.params[1]} ${m.tags?.msgid}`);
        }
        return got;
      }));
      assert.deepEqual(seen[1], seen[0], 'node 2 saw node 1\'s order');
      assert.deepEqual(seen[2], seen[0], 'node 3 saw node 1\'s order');
      const withoutIds = seen[0]!.map((l) => l.split(' ').slice(0, 2).join(' '));
      for (let i = 0; i < 100 && (atEngine.length < TOTAL || atFramework.length < TOTAL); i++) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(atEngine, withoutIds, 'our engine');
      assert.deepEqual(atFramework, withoutIds, 'irc-framework');
      for (const c of raws) assert.deepEqual(await history(c, '#everywhere'), seen[0]);
    } finally {
      engine.quit();
      framework.quit();
    }
  });

  it('two ops racing +l and -l on two nodes end the same everywhere', async () => {
    const [op1, op2, watch] = [await register(nodes[0]!, 'limitop1'), await register(nodes[1]!, 'limitop2'), await register(nodes[2]!, 'limitwatch')];
    for (const c of [op1, op2, watch]) {
      c.send('JOIN #limited');
      await c.expect((m) => m.command === '366');
    }
    op1.send('MODE #limited +o limitop2');
    await op2.expect((m) => m.command === 'MODE' && m.params.join(' ') === '#limited +o limitop2');
    const modeLines = (c: RawClient, count: number) => (async () => {
      const lines: string[] = [];
      while (lines.length < count) lines.push((await c.expect((m) => m.command === 'MODE' && /^[+-]l/.test(m.params[1]!))).params.slice(1).join(' '));
      return lines;
    })();
    for (let round = 0; round < 6; round++) {
      // A limit to start from, so that -l and +l always change something, in either order.
      const base = [modeLines(op1, 1), modeLines(op2, 1), modeLines(watch, 1)];
      op1.send('MODE #limited +l 5');
      await Promise.all(base);
      const seen = [modeLines(op1, 2), modeLines(op2, 2), modeLines(watch, 2)];
      op1.send(`MODE #limited +l ${10 + round}`);
      op2.send(round % 2 ? 'MODE #limited -l' : `MODE #limited +l ${50 + round}`);
      const [a, b, c] = await Promise.all(seen);
      assert.deepEqual(b, a, `round ${round}: both ops saw one order`);
      assert.deepEqual(c, a, `round ${round}: the third node saw it too`);
      const states = await Promise.all([op1, op2, watch].map(async (x) => {
        x.send('MODE #limited');
        return (await x.expect((m) => m.command === '324')).params.slice(2).join(' ');
      }));
      assert.equal(new Set(states).size, 1, `round ${round}: ${states.join(' / ')}`);
      // The later line of the log decides, everywhere: -l then +l 10 leaves 10, the reverse none.
      const last = a[1]!;
      assert.equal(states[0], last.startsWith('-l') ? '+nt' : `+ntl ${last.split(' ')[1]}`, `round ${round}: ${a.join(', ')}`);
    }
  });

  it('kill -9 of a node: its users\' nicks are free on the others within 10 s', async (t) => {
    const victim = nodes[2]!;
    const doomed = await register(victim, 'doomed', CAPS);
    const probe = await register(nodes[0]!, 'prober', CAPS);
    const other = await register(nodes[1]!, 'witness', CAPS);
    for (const c of [doomed, probe, other]) {
      c.send('JOIN #wake');
      await c.expect((m) => m.command === '366');
    }
    // Echoed to its sender: stored, so in history whatever happens to the node next.
    const echoed: string[] = [];
    for (let i = 0; i < 20; i++) doomed.send(`PRIVMSG #wake :last words ${i}`);
    for (let i = 0; i < 20; i++) echoed.push((await doomed.expect(said)).tags!.msgid!);
    // Then a burst, and the node dies after the first echo of it, with the rest in flight.
    doomed.answerPings = false;
    for (let i = 0; i < 50; i++) doomed.send(`PRIVMSG #wake :in flight ${i}`);
    echoed.push((await doomed.expect(said)).tags!.msgid!);
    probe.send('NICK doomed');
    await probe.expect((m) => m.command === '433');
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    await victim.exited;
    for (const m of await doomed.sync().catch(() => [] as IrcMessage[])) if (said(m)) echoed.push(m.tags!.msgid!);
    const witnessed: string[] = [];
    const quits = Promise.all([probe, other].map(async (c) => {
      const quit = await c.expect((m) => {
        if (c === other && said(m) && !witnessed.includes(m.tags!.msgid!)) witnessed.push(m.tags!.msgid!);
        return m.command === 'QUIT' && m.source?.startsWith('doomed!') === true;
      }, 12_000);
      return { reason: quit.params[0], ms: Date.now() - killedAt };
    }));
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
    for (const quit of await quits) {
      assert.match(quit.reason!, /Server went away/);
      assert.ok(quit.ms < 10_000, `QUIT after ${quit.ms} ms`);
      t.diagnostic(`kill -9 to QUIT seen on another node: ${quit.ms} ms`);
    }
    // WHOWAS on both nodes knows who held the nick: the reaper's own entry, and the other's
    // from the reaper's sign-off on the network log.
    for (const c of [probe, other]) {
      let entry: IrcMessage | undefined;
      for (let i = 0; i < 30 && !entry; i++) {
        c.send('WHOWAS doomed');
        const reply = await c.expect((m) => m.command === '314' || m.command === '406');
        if (reply.command === '314') entry = reply;
        await c.expect((m) => m.command === '369');
        if (!entry) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(entry, 'WHOWAS doomed after the reap');
      assert.deepEqual([entry.params[1], entry.params[3]], ['doomed', '127.0.0.1']);
    }
    const stored = (await history(other, '#wake')).map((l) => l.split(' ').at(-1));
    for (const msgid of echoed) assert.ok(stored.includes(msgid), `echoed ${msgid} is in history`);
    // Another node's member got every echoed message and nothing history lacks, in its order.
    for (const msgid of echoed) assert.ok(witnessed.includes(msgid), `echoed ${msgid} reached node 2`);
    assert.deepEqual(witnessed, stored.filter((id) => witnessed.includes(id!)));
    assert.deepEqual(stored.filter((id) => !witnessed.includes(id!)), [], 'history holds nothing node 2 did not get');
    t.diagnostic(`echoed ${echoed.length}, stored ${stored.length}, seen on node 2 ${witnessed.length}`);
    nodes.splice(2);
  });
});
