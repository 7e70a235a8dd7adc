/**
 * Issue 14, `parley serve --workers 2`: one real process (dist/, built by `npm run build` or
 * `npx tsc -p tsconfig.json`) whose two worker processes share one IRC port through
 * node:cluster, each a node of the network on one Redis (a key prefix of this run) and one
 * SQLite file. Clients that landed on both workers (two node ids, read from their uids in
 * Redis) chat in one room; /metrics and /readyz answer for both workers whichever one serves
 * them; a worker killed with SIGKILL is started again by the primary as a new node, which
 * clients then reach; SIGTERM to the primary stops everything, each worker leaving the network.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { killStartedServers, ROOT, startCliServer, type CliServer } from '../helpers/cli-server.js';
import { RawClient } from '../helpers/raw-client.js';
import { dropPrefix, randomPrefix, redisSkipReason, TEST_REDIS_URL } from '../cluster/redis-helpers.js';

const skip = await redisSkipReason();

/** The worker processes: the primary's children (Linux `ps`). */
function workerPids(primary: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(primary)], { encoding: 'utf8' }).split('\n').map((s) => Number(s.trim())).filter((n) => n > 0);
  } catch {
    return []; // ps exits 1 when there is none
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('parley serve --workers 2', { skip }, () => {
  const prefix = randomPrefix('workers');
  const dir = mkdtempSync(join(tmpdir(), 'parley-workers-'));
  const redis = new Redis(TEST_REDIS_URL);
  const clients: RawClient[] = [];
  let serve: CliServer;
  let count = 0;

  before(async () => {
    serve = await startCliServer(dir, {
      PARLEY_CLUSTER__URL: TEST_REDIS_URL,
      PARLEY_CLUSTER__PREFIX: prefix,
      PARLEY_CLUSTER__WORKERS: '2',
      PARLEY_LOG__LEVEL: 'info',
      PARLEY_LOG__FORMAT: 'json',
    });
  });
  after(async () => {
    for (const c of clients) c.close();
    killStartedServers();
    for (const pid of serve ? workerPids(serve.child.pid!) : []) process.kill(pid, 'SIGKILL');
    await serve?.exited;
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
    await dropPrefix(TEST_REDIS_URL, prefix);
  });

  /** The node a registered nick's session is on: the first 6 characters of its uid. */
  const nodeOf = async (nick: string) => ((await redis.get(`${prefix}nick:${nick}`)) ?? '').slice(0, 6);
  const liveNodes = async () => (await redis.smembers(`${prefix}nodes`)).sort();
  const CAPS = ['echo-message', 'server-time', 'message-tags'];

  /** Registers new clients until one is on each of `nodes` (node:cluster hands connections out in turn). */
  const onEach = async (nodes: string[]) => {
    const found = new Map<string, RawClient>();
    for (let i = 0; i < 20 && found.size < nodes.length; i++) {
      const nick = `w${count++}`;
      const c = await RawClient.register(serve.port, nick, CAPS);
      c.answerPings = true;
      clients.push(c);
      const node = await nodeOf(nick);
      assert.ok(nodes.includes(node), `${nick} is on ${node}, one of ${nodes.join(' ')}`);
      if (!found.has(node)) found.set(node, c);
      else c.close();
    }
    assert.equal(found.size, nodes.length, 'clients reached every worker');
    return nodes.map((n) => found.get(n)!);
  };

  /** Each client says something in `room`; every one of them gets every line, with one msgid. */
  const chat = async (room: string, members: RawClient[]) => {
    for (const c of members) {
      c.send(`JOIN ${room}`);
      await c.expect((m) => m.command === '366');
    }
    for (const speaker of members) {
      const text = `hello from ${speaker.nick}`;
      speaker.send(`PRIVMSG ${room} :${text}`);
      const got = await Promise.all(members.map((c) => c.expect((m) => m.command === 'PRIVMSG' && m.params[1] === text, 10_000)));
      assert.equal(new Set(got.map((m) => m.tags?.msgid)).size, 1, 'one msgid everywhere');
      assert.ok(got.every((m) => m.source?.startsWith(`${speaker.nick}!`)));
    }
  };

  const http = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${serve.httpPort}${path}`);
    return { status: res.status, body: await res.text() };
  };

  it('two workers are two nodes on one port; clients on both chat in one room', async () => {
    assert.match(serve.output().stdout, /Parley is running: 2 worker processes \(nodes [0-9a-v]{6}, [0-9a-v]{6}\)/);
    assert.equal(workerPids(serve.child.pid!).length, 2);
    const nodes = await liveNodes();
    assert.equal(nodes.length, 2, `two leases: ${nodes.join(' ')}`);
    const [a, b] = await onEach(nodes);
    await chat('#together', [a!, b!]);
  });

  it('/metrics and /readyz answer for the whole machine on whichever worker serves them', async () => {
    const registered = clients.filter((c) => !c.closed).length;
    const usersIn = (body: string) => Number(/^parley_registered_users (\d+)$/m.exec(body)?.[1]);
    // The extra clients onEach closed may still be leaving.
    await until('the closed clients gone', async () => usersIn((await http('/metrics')).body) === registered);
    // Scrapes land on either worker (connections are handed out in turn): each must add up both.
    for (let i = 0; i < 4; i++) {
      const { status, body } = await http('/metrics');
      assert.equal(status, 200);
      assert.equal(usersIn(body), registered, 'registered users of both workers');
      const nodes = [...body.matchAll(/^parley_cluster_node_info\{node="([0-9a-v]{6})"\} 1$/gm)].map((m) => m[1]).sort();
      assert.deepEqual(nodes, await liveNodes(), 'one node_info series per worker');
      assert.match(body, /^parley_cluster_fenced 0$/m, 'fenced is the largest of the workers\' 0s, not their sum');
      assert.match(body, /^parley_info\{version="[^"]+",node="parley\.local"\} 1$/m);
      const ready = await http('/readyz');
      assert.equal(ready.status, 200, ready.body);
      assert.match(ready.body, /"workers":"ok"/);
    }
  });

  const counter = async (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec((await http('/metrics')).body)?.[1]);

  it('a worker killed with SIGKILL is started again as a new node, and clients reach it', async () => {
    const before = workerPids(serve.child.pid!);
    const nodesBefore = await liveNodes();
    // Scraped now, so the machine's counters include the victim's until now.
    const acceptedBefore = await counter('parley_connections_accepted_total');
    assert.ok(acceptedBefore > 0);
    const victim = before[0]!;
    process.kill(victim, 'SIGKILL');
    // Its clients lose their connection at once; the primary forks a replacement.
    const pids = await until('a new worker', () => {
      const now = workerPids(serve.child.pid!);
      return now.length === 2 && !now.includes(victim) ? now : null;
    });
    assert.ok(pids.includes(before[1]!), 'the other worker kept running');
    const restarted = await until('the restart in the log', () => /"msg":"worker restarted"/.test(serve.output().stderr) && serve.output().stderr);
    const line = restarted.split('\n').find((l) => l.includes('"msg":"worker restarted"'))!;
    const newNode = (JSON.parse(line) as { node: string }).node;
    assert.ok(!nodesBefore.includes(newNode), 'a new node id');
    // No connection since: without the dead worker's counts the machine's would have gone down
    // (and a drop reads as a counter reset). They stay, so the counter is where it was.
    assert.equal(await counter('parley_connections_accepted_total'), acceptedBefore, 'accepted connections kept');
    // The dead node is reaped by the survivor (lease ttl 5 s), so two live nodes again.
    const nodes = await until('the dead node reaped', async () => {
      const now = await liveNodes();
      return now.length === 2 && now.includes(newNode) ? now : null;
    });
    const [a, b] = await onEach(nodes);
    await chat('#again', [a!, b!]);
    const ready = await http('/readyz');
    assert.equal(ready.status, 200, ready.body);
  });

  it('a worker paused past its lease (SIGSTOP) is fenced when it wakes, exits and is replaced by a new node', async () => {
    const [paused, other] = workerPids(serve.child.pid!);
    const nodesBefore = await liveNodes();
    process.kill(paused!, 'SIGSTOP');
    // The lease is 5 s; the other worker reaps the silent node after it lapses.
    await until('the paused node reaped', async () => (await liveNodes()).length === 1, 15_000);
    process.kill(paused!, 'SIGCONT');
    const pids = await until('its replacement', () => {
      const now = workerPids(serve.child.pid!);
      return now.length === 2 && !now.includes(paused!) ? now : null;
    });
    assert.ok(pids.includes(other!));
    const fenced = serve.output().stderr.split('\n').find((l) => l.includes('worker exited; starting it again') && l.includes('"fenced":true'));
    assert.ok(fenced, 'the primary saw it exit as fenced');
    const nodes = await until('two live nodes again', async () => {
      const now = await liveNodes();
      return now.length === 2 ? now : null;
    });
    assert.equal(nodes.filter((n) => nodesBefore.includes(n)).length, 1, 'one of them new');
    const [a, b] = await onEach(nodes);
    await chat('#after-pause', [a!, b!]);
  });

  it('SIGTERM to the primary stops every worker gracefully and it exits 0', async () => {
    const pids = workerPids(serve.child.pid!);
    assert.equal(pids.length, 2);
    const open = clients.filter((c) => !c.closed);
    assert.ok(open.length >= 2);
    const exit = new Promise<number | null>((resolve) => serve.child.once('exit', (code) => resolve(code)));
    serve.child.kill('SIGTERM');
    for (const c of open) {
      // Workers are cluster nodes: each drains (shutdown_drain_seconds) before it stops.
      await c.expect((m) => m.command === 'ERROR' && /Server restarting, please reconnect/.test(m.params[0] ?? ''), 15_000);
      await c.closedByServer(10_000);
    }
    assert.equal(await exit, 0);
    for (const pid of pids) assert.equal(alive(pid), false, `worker ${pid} gone`);
    // Each worker left the network: no lease waits to expire.
    assert.deepEqual(await liveNodes(), []);
  });
});

describe('parley serve --workers 2 that cannot start', { skip }, () => {
  const redis = new Redis(TEST_REDIS_URL);
  after(() => redis.disconnect());
  it('a worker failing at start stops the others; the primary exits 1 with the reason', async () => {
    const prefix = randomPrefix('workers-fail');
    const dir = mkdtempSync(join(tmpdir(), 'parley-workers-'));
    // The IRC port is taken: the workers' listen (done by the primary for them) fails.
    const taken = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => taken.once('listening', r));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const child = spawn(process.execPath, ['bin/parley.js', 'serve', '--workers', '2', '--cluster', TEST_REDIS_URL, '--listen', `127.0.0.1:${port}`, '--http', '127.0.0.1:0', '--data', dir], {
        cwd: ROOT,
        env: { ...process.env, PARLEY_CLUSTER__PREFIX: prefix, PARLEY_LOG__FORMAT: 'json' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      clearTimeout(timer);
      assert.equal(code, 1, err);
      assert.match(err, /parley serve: worker 1 could not start: .*EADDRINUSE/);
      assert.match(err, /"msg":"worker could not start; stopping the others"/);
      assert.equal(out, '', 'no start-up message');
      assert.deepEqual(await redis.smembers(`${prefix}nodes`), [], 'no node left behind');
      await dropPrefix(TEST_REDIS_URL, prefix);
    } finally {
      taken.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
