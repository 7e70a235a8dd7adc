/**
 * Issue 14, network-wide queries: two servers in this process on one Redis prefix. LIST, LUSERS,
 * WHO, WHOX, WHOIS, USERHOST and ISON asked on one node see the other node's users and rooms,
 * with the visibility rules of one server (secret rooms, invisible users), and hostile masks
 * cost nothing.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { hashPassword } from '../../src/auth/password.js';
import { segment } from '../../src/cluster/keys.js';
import { foldCase } from '../../src/protocol/index.js';
import type { IrcMessage } from '../../src/protocol/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { redisSkipReason, TEST_REDIS_URL } from '../cluster/redis-helpers.js';
import { twoNodes } from './two-nodes.js';

const skip = await redisSkipReason();
const is = (command: string, param?: string) => (m: IrcMessage) => m.command === command && (param === undefined || m.params.includes(param));

/** Sends `line` and collects every message up to and including the first `end`. */
async function until(client: RawClient, line: string, end: string): Promise<IrcMessage[]> {
  client.send(line);
  const got: IrcMessage[] = [];
  for (;;) {
    const m = await client.expect(() => true);
    got.push(m);
    if (m.command === end) return got;
  }
}

const of = (got: IrcMessage[], command: string) => got.filter((m) => m.command === command);
/** The nicks in 352 replies. */
const whoNicks = (got: IrcMessage[]) => of(got, '352').map((m) => m.params[5]).sort();

async function joined(client: RawClient, room: string): Promise<void> {
  client.send(`JOIN ${room}`);
  await client.expect(is('366', room));
}

const OPER_PASSWORD = 'oper-secret';
const operHash = await hashPassword(OPER_PASSWORD, { N: 1024 });

/** A self-signed certificate for a TLS listener on both nodes, removed after the suite. */
function certificate(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'parley-queries-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  if (!skip) {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  }
  return { cert, key };
}

describe('network-wide queries on two nodes', { skip }, () => {
  const nodes = twoNodes('queries', {
    opers: [{ name: 'op', password_hash: operHash }],
    tls: { listen: ['127.0.0.1:0'], ...certificate() },
  });
  const { register } = nodes;

  it('LIST on one node lists the rooms of both, with counts and topics; a +s room only to its members', async () => {
    const onA = await register(nodes.a, 'lista');
    const onB = await register(nodes.b, 'listb');
    const alsoB = await register(nodes.b, 'listb2');
    await joined(onB, '#list-open');
    await joined(alsoB, '#list-open');
    onB.send('TOPIC #list-open :all welcome');
    await onB.expect(is('TOPIC'));
    await joined(onB, '#list-hidden');
    onB.send('MODE #list-hidden +s');
    await onB.expect(is('MODE', '#list-hidden'));
    await joined(onA, '#list-mine');

    const listed = (got: IrcMessage[]) => new Map(of(got, '322').map((m) => [m.params[1], [m.params[2], m.params[3]]]));
    let got = await until(onA, 'LIST', '323');
    assert.equal(of(got, '321').length, 1);
    let rooms = listed(got);
    assert.deepEqual(rooms.get('#list-open'), ['2', 'all welcome']);
    assert.deepEqual(rooms.get('#list-mine'), ['1', '']);
    assert.equal(rooms.has('#list-hidden'), false, 'a secret room of the other node is not shown to an outsider');
    // The member filter and a list of names work for rooms of the other node too.
    rooms = listed(await until(onA, 'LIST >1', '323'));
    assert.ok(rooms.has('#list-open'));
    assert.equal(rooms.has('#list-mine'), false);
    rooms = listed(await until(onA, 'LIST #LIST-OPEN,#list-hidden,#nowhere', '323'));
    assert.deepEqual([...rooms.keys()], ['#list-open']);
    // A member of the secret room on this node sees it (+s hides the room; it does not keep anyone out).
    await joined(onA, '#list-hidden');
    rooms = listed(await until(onA, 'LIST', '323'));
    assert.deepEqual(rooms.get('#list-hidden'), ['2', '']);
    got = await until(onB, 'LIST #list-mine', '323');
    assert.deepEqual([...listed(got).keys()], ['#list-mine']);
  });

  it('LIST filters by mask, not-mask, creation and topic time (ELIST=CMNTU) for rooms of both nodes', async () => {
    const onA = await register(nodes.a, 'elista');
    const onB = await register(nodes.b, 'elistb');
    for (const room of ['#elist-old', '#elist-new', '#elist-other']) await joined(onB, room);
    await joined(onA, '#elist-mine');
    for (const room of ['#elist-old', '#elist-new']) {
      onB.send(`TOPIC ${room} :about ${room}`);
      await onB.expect(is('TOPIC', room));
    }
    // #elist-old was made two hours ago and its topic set an hour ago: written into the shared
    // state as a room of that age would have them.
    const redis = new Redis(TEST_REDIS_URL);
    const key = `${nodes.a.server.config.cluster.prefix}r:state:${segment(foldCase('#elist-old'), 'room')}`;
    const nowSeconds = Math.floor(Date.now() / 1000);
    const topic = JSON.parse((await redis.hget(key, 'topic'))!);
    await redis.hset(key, 'created', String(nowSeconds - 7200), 'topic', JSON.stringify({ ...topic, setAt: nowSeconds - 3600 }));
    await redis.quit();
    const names = async (client: RawClient, line: string) => of(await until(client, line, '323'), '322').map((m) => m.params[1]).filter((n) => n!.startsWith('#elist')).sort();

    assert.deepEqual(await names(onA, 'LIST #ELIST-*'), ['#elist-mine', '#elist-new', '#elist-old', '#elist-other']);
    assert.deepEqual(await names(onA, 'LIST *-o*,*mine'), ['#elist-mine', '#elist-old', '#elist-other']);
    assert.deepEqual(await names(onA, 'LIST #elist-*,!*o*'), ['#elist-mine', '#elist-new']);
    // Created more than 60 minutes ago / less than 60 minutes ago (as InspIRCd and Solanum read C).
    assert.deepEqual(await names(onA, 'LIST C>60'), ['#elist-old']);
    assert.deepEqual(await names(onA, 'LIST #elist-*,C<60'), ['#elist-mine', '#elist-new', '#elist-other']);
    // Topic set more than 30 minutes ago; less than 30: a room without a topic matches neither.
    assert.deepEqual(await names(onA, 'LIST T>30'), ['#elist-old']);
    assert.deepEqual(await names(onA, 'LIST t<30'), ['#elist-new']);
    // Conditions combine, in one parameter or several; names asked for are filtered too.
    assert.deepEqual(await names(onA, 'LIST #elist-old,#elist-new T<30'), ['#elist-new']);
    assert.deepEqual(await names(onA, 'LIST #elist-*,<2 !*mine'), ['#elist-new', '#elist-old', '#elist-other']);
    // Every mask costs a match per room read: more than ten in one LIST is refused.
    const refused = await until(onA, `LIST ${Array.from({ length: 11 }, (_, i) => `*${i}*`).join(',')}`, 'FAIL');
    assert.deepEqual(of(refused, 'FAIL')[0]!.params.slice(0, 2), ['LIST', 'INVALID_PARAMS']);
    assert.equal(of(refused, '321').length, 0);
    // A glob built to backtrack costs no more than its length times the name's.
    assert.deepEqual(await names(onA, `LIST ${'*e'.repeat(40)}*x,C>999999999`), []);
  });

  it('LIST reads the shared state past one page (more rooms than a page holds)', async () => {
    const asker = await register(nodes.a, 'pageasker');
    const want: string[] = [];
    for (let c = 0; c < 3; c++) {
      const joiner = await register(nodes.b, `pagejoiner${c}`);
      const rooms = Array.from({ length: 45 }, (_, i) => `#pg${c}-${i}`);
      want.push(...rooms);
      joiner.send(`JOIN ${rooms.join(',')}`);
      await joiner.expect(is('366', rooms.at(-1)));
    }
    const got = await until(asker, 'LIST', '323');
    const listed = of(got, '322').map((m) => m.params[1]!);
    assert.deepEqual(listed.filter((name) => name.startsWith('#pg')).sort(), [...want].sort());
    assert.deepEqual(listed, [...listed].sort(), 'in folded-name order');
    assert.equal(new Set(listed).size, listed.length, 'each room once');
    assert.deepEqual(of(got, '416'), []);
  });

  it('LUSERS counts the users, invisible users, operators and rooms of both nodes on 2 servers', async () => {
    const watcher = await register(nodes.a, 'lusersa');
    const lusers = async () => {
      const got = await until(watcher, 'LUSERS', '266');
      const text = (command: string) => of(got, command)[0]!.params.slice(1);
      return { client: text('251').at(-1)!, ops: text('252')[0]!, rooms: Number(text('254')[0]), me: text('255').at(-1)!, global: text('266') };
    };
    const before = await lusers();
    assert.match(before.client, / on 2 servers$/);
    const hidden = await register(nodes.b, 'lusersb');
    hidden.send('MODE lusersb +i');
    await hidden.expect(is('MODE', 'lusersb'));
    hidden.send(`OPER op ${OPER_PASSWORD}`);
    await hidden.expect(is('381'));
    await joined(hidden, '#lusers-room');
    const [users, invisible] = before.client.match(/\d+/g)!.map(Number) as [number, number];
    const now = await lusers();
    assert.equal(now.client, `There are ${users} users and ${invisible + 1} invisible on 2 servers`);
    assert.equal(Number(now.ops), Number(before.ops) + 1);
    assert.equal(now.rooms, before.rooms + 1);
    // 255 and 265 stay this node's own; 266 is the network's.
    assert.equal(now.me, before.me);
    assert.equal(Number(now.global[0]), users + invisible + 1);
    hidden.send('QUIT');
    await hidden.closedByServer();
    // The removal is done in the shared state when the other node's WHOIS no longer finds it.
    for (let tries = 0; ; tries++) {
      const whois = await until(watcher, 'WHOIS lusersb', '318');
      if (of(whois, '401').length === 1) break;
      assert.ok(tries < 100, 'lusersb still known');
    }
    const last = await lusers();
    assert.deepEqual([last.client, last.ops, last.rooms], [before.client, before.ops, before.rooms]);
  });

  it('WHO #room lists the members of both nodes, with or without a copy of the room here', async () => {
    const asker = await register(nodes.a, 'whoasker');
    const b1 = await register(nodes.b, 'whob1');
    const b2 = await register(nodes.b, 'whob2');
    await joined(b1, '#who-far');
    await joined(b2, '#who-far');
    b2.send('AWAY :gone');
    await b2.expect(is('306'));
    b2.send(`OPER op ${OPER_PASSWORD}`);
    await b2.expect(is('381'));
    // No member on node A: the shared state answers.
    let got = await until(asker, 'WHO #who-far', '315');
    assert.deepEqual(whoNicks(got), ['whob1', 'whob2']);
    const flags = new Map(of(got, '352').map((m) => [m.params[5], m.params[6]]));
    assert.deepEqual([flags.get('whob1'), flags.get('whob2')], ['H@', 'G*']);
    assert.equal(of(got, '352')[0]!.params[1], '#who-far');
    // With a copy on A: local and remote members alike.
    await joined(asker, '#who-far');
    got = await until(asker, 'WHO #who-far', '315');
    assert.deepEqual(whoNicks(got), ['whoasker', 'whob1', 'whob2']);
    assert.equal(of(got, '352').find((m) => m.params[5] === 'whob2')!.params[6], 'G*', "a remote member's operator status comes from its record");
    // A secret room without members here shows no one to an outsider.
    await joined(b1, '#who-secret');
    b1.send('MODE #who-secret +s');
    await b1.expect(is('MODE', '#who-secret'));
    got = await until(asker, 'WHO #who-secret', '315');
    assert.deepEqual(whoNicks(got), []);
  });

  it('WHO <mask> matches users of both nodes; an invisible user elsewhere only when sharing a room or to an oper', async () => {
    const asker = await register(nodes.a, 'maskasker');
    const seen = await register(nodes.b, 'maskseen');
    const hidden = await register(nodes.b, 'maskhidden');
    hidden.send('MODE maskhidden +i');
    await hidden.expect(is('MODE', 'maskhidden'));
    assert.deepEqual(whoNicks(await until(asker, 'WHO mask*', '315')), ['maskasker', 'maskseen']);
    assert.deepEqual(whoNicks(await until(asker, 'WHO MASKHIDDEN', '315')), ['maskhidden'], 'an exact nick is shown, as on one server');
    // Sharing a room makes it visible.
    await joined(hidden, '#mask-shared');
    await joined(asker, '#mask-shared');
    assert.deepEqual(whoNicks(await until(asker, 'WHO mask*', '315')), ['maskasker', 'maskhidden', 'maskseen']);
    asker.send('PART #mask-shared');
    await asker.expect(is('PART'));
    assert.deepEqual(whoNicks(await until(asker, 'WHO mask*', '315')), ['maskasker', 'maskseen']);
    // An operator sees every user.
    asker.send(`OPER op ${OPER_PASSWORD}`);
    await asker.expect(is('381'));
    assert.deepEqual(whoNicks(await until(asker, 'WHO mask*', '315')), ['maskasker', 'maskhidden', 'maskseen']);
    // The other node sees the oper's * in WHO and USERHOST.
    const fromB = await until(seen, 'WHO maskasker', '315');
    assert.equal(of(fromB, '352')[0]!.params[6], 'H*');
    // Matching covers user, host and realname too, case-folded.
    assert.deepEqual(whoNicks(await until(asker, 'WHO *MASKSEEN*', '315')), ['maskseen']);
  });

  it('WHOX gives the fields a remote user has, with placeholders for what it does not', async () => {
    const asker = await register(nodes.a, 'whoxasker');
    const far = await register(nodes.b, 'whoxfar');
    far.send('AWAY :out');
    await far.expect(is('306'));
    await joined(far, '#whox-room');
    await joined(asker, '#whox-room');
    const got = await until(asker, 'WHO whoxfar %tcuhsnfdlaor,42', '315');
    const [reply] = of(got, '354');
    const [token, room, user, host, server, nick, flags, hops, idle, account, oplevel, realname] = reply!.params.slice(1);
    assert.deepEqual([token, room, host, nick, flags, hops, account, oplevel, realname], ['42', '#whox-room', '127.0.0.1', 'whoxfar', 'G@', '0', '0', 'n/a', 'whoxfar Test']);
    assert.match(user!, /whoxfar/);
    assert.ok(server);
    assert.equal(idle, '0', 'idle time of another node is not known: 0');
    const mask = await until(asker, 'WHO whoxf* %nc', '315');
    assert.deepEqual(of(mask, '354').map((m) => m.params.slice(1)), [['#whox-room', 'whoxfar']]);
  });

  it('WHOIS of a user on the other node: its rooms with prefixes (secret ones only to members), operator, TLS, away', async () => {
    const asker = await register(nodes.a, 'whoisasker', ['multi-prefix']);
    const tlsPort = nodes.b.listeners.find((l) => l.kind === 'tls')!.port;
    const far = await RawClient.register(tlsPort, 'whoisfar', [], { tls: true });
    nodes.clients.push(far);
    await joined(far, '#whois-open');
    await joined(far, '#whois-secret');
    far.send('MODE #whois-secret +s');
    await far.expect(is('MODE', '#whois-secret'));
    far.send(`OPER op ${OPER_PASSWORD}`);
    await far.expect(is('381'));
    far.send('AWAY :busy');
    await far.expect(is('306'));
    let got = await until(asker, 'WHOIS whoisfar', '318');
    assert.deepEqual(got.map((m) => m.command), ['311', '319', '312', '313', '301', '671', '317', '318']);
    assert.equal(of(got, '319')[0]!.params.at(-1), '@#whois-open');
    // A member of the secret room (on this node) sees it, with both prefixes under multi-prefix.
    await joined(asker, '#whois-secret');
    far.send('MODE #whois-secret +v whoisfar');
    await asker.expect(is('MODE', '#whois-secret'));
    got = await until(asker, 'WHOIS whoisfar', '318');
    assert.deepEqual(of(got, '319')[0]!.params.at(-1)!.split(' ').sort(), ['@#whois-open', '@+#whois-secret']);
    // TARGMAX WHOIS:1: a comma list asks about the first nick, here a remote one.
    got = await until(asker, 'WHOIS whoisfar,whoisasker', '318');
    assert.equal(of(got, '311')[0]!.params[1], 'whoisfar');
    // This node's TLS users get 671 too.
    const local = await RawClient.register(nodes.a.listeners.find((l) => l.kind === 'tls')!.port, 'whoislocal', [], { tls: true });
    nodes.clients.push(local);
    got = await until(asker, 'WHOIS whoislocal', '318');
    assert.equal(of(got, '671').length, 1);
    assert.equal(of(got, '317').length, 1, 'idle time is known for users of this node');
  });

  it("WHOIS of a user on the other node has 317 from that node: idle since it last spoke, its signon time", async () => {
    const asker = await register(nodes.a, 'idleasker');
    const far = await register(nodes.b, 'idlefar');
    const since = (await nodes.b.server.cluster.state.userByNick('idlefar'))!.since;
    await new Promise((r) => setTimeout(r, 2200));
    let idle = of(await until(asker, 'WHOIS idlefar', '318'), '317');
    assert.equal(idle.length, 1);
    assert.ok(Number(idle[0]!.params[2]) >= 2, `idle for 2 s: ${idle[0]!.params[2]}`);
    assert.equal(idle[0]!.params[3], String(Math.floor(since / 1000)));
    far.send('PRIVMSG idleasker :here');
    await asker.expect(is('PRIVMSG', 'idleasker'));
    idle = of(await until(asker, 'WHOIS idlefar', '318'), '317');
    assert.ok(Number(idle[0]!.params[2]) <= 1, `spoke just now: ${idle[0]!.params[2]}`);
    // A node that does not answer (dying, or too busy): WHOIS ends without 317, after a bounded wait.
    const remote = nodes.b.server.remoteUsers;
    const answer = remote.applyIdleQuery;
    remote.applyIdleQuery = () => {};
    try {
      const started = Date.now();
      const got = await until(asker, 'WHOIS idlefar', '318');
      assert.equal(of(got, '317').length, 0);
      assert.equal(of(got, '311').length, 1);
      assert.ok(Date.now() - started < 5000, 'answered after the idle wait, not never');
    } finally {
      remote.applyIdleQuery = answer;
    }
  });

  it('a bot on the other node: WHOIS 335, WHO and WHOX flag B, its room messages tagged bot', async () => {
    const asker = await register(nodes.a, 'botasker', ['message-tags']);
    const bot = await register(nodes.b, 'farbot');
    bot.send('MODE farbot +B');
    await bot.expect(is('MODE'));
    await joined(bot, '#botroom');
    await joined(asker, '#botroom');
    const whois = await until(asker, 'WHOIS farbot', '318');
    assert.equal(of(whois, '335')[0]?.params[1], 'farbot');
    const who = await until(asker, 'WHO #botroom', '315');
    assert.equal(of(who, '352').find((m) => m.params[5] === 'farbot')?.params[6], 'H@B');
    const whox = await until(asker, 'WHO farbot %nf', '315');
    assert.deepEqual(of(whox, '354')[0]?.params.slice(1), ['farbot', 'H@B']);
    bot.send('PRIVMSG #botroom :beep from node b');
    const got = await asker.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'beep from node b');
    assert.equal(got.tags?.bot, '');
  });

  it('USERHOST and ISON find users of both nodes', async () => {
    const asker = await register(nodes.a, 'uhasker');
    const far = await register(nodes.b, 'uhfar');
    far.send(`OPER op ${OPER_PASSWORD}`);
    await far.expect(is('381'));
    far.send('AWAY :x');
    await far.expect(is('306'));
    asker.send('USERHOST uhfar nobody uhasker');
    const userhost = await asker.expect(is('302'));
    assert.match(userhost.params.at(-1)!, /^uhfar\*=-[^ ]+@127\.0\.0\.1 uhasker=\+[^ ]+@127\.0\.0\.1$/);
    asker.send('ISON UHFAR nobody uhasker #room uhfar');
    const ison = await asker.expect(is('303'));
    assert.equal(ison.params.at(-1), 'uhfar uhasker');
  });

  it('hostile masks and names: runs of * and ?, very long masks, junk LIST names get their end reply at once', async () => {
    const asker = await register(nodes.a, 'hostile');
    await register(nodes.b, `${'a'.repeat(20)}b`);
    const masks = [
      '*?'.repeat(200),
      `${'*a'.repeat(150)}c`,
      `${'*'.repeat(400)}x`,
      '?'.repeat(450),
      `#${'*?'.repeat(200)}`,
      `#${'x'.repeat(400)}`,
    ];
    for (const mask of masks) {
      const got = await until(asker, `WHO ${mask}`, '315');
      assert.deepEqual(of(got, '352'), [], mask.slice(0, 20));
      assert.deepEqual(of(got, '416'), []);
    }
    // A run of stars matches like one star.
    assert.deepEqual(whoNicks(await until(asker, `WHO ${'*'.repeat(300)}aaab`, '315')), [`${'a'.repeat(20)}b`]);
    const list = await until(asker, `LIST ${'*?'.repeat(100)},#${'y'.repeat(250)},,#,&`, '323');
    assert.deepEqual(list.map((m) => m.command), ['321', '323']);
  });
});

describe('network-wide query limits on two nodes', { skip }, () => {
  const nodes = twoNodes('query-limits', { limits: { who_max_results: 3, list_max_results: 4 } });
  const { register } = nodes;

  it('WHO <mask> and LIST stop at their limits with 416 over both nodes', async () => {
    const asker = await register(nodes.a, 'capasker');
    for (let i = 0; i < 3; i++) {
      const user = await register(i === 0 ? nodes.a : nodes.b, `capuser${i}`);
      await joined(user, `#cap${i}`);
      const more = await register(nodes.b, `capmore${i}`);
      await joined(more, `#capb${i}`);
    }
    const who = await until(asker, 'WHO cap*', '315');
    assert.equal(of(who, '352').length, 3);
    assert.deepEqual(of(who, '416').map((m) => m.params[1]), ['WHO']);
    const list = await until(asker, 'LIST', '323');
    assert.equal(of(list, '322').length, 4);
    assert.deepEqual(of(list, '416').map((m) => m.params[1]), ['LIST']);
  });
});
