/**
 * RENAME (IRCv3 draft/channel-rename) over real sockets on one server: what members with the
 * cap and without it see (the spec's PART/JOIN fallback, irc-framework as an independent peer),
 * that state, membership and history move with the room, the old name's redirect for JOIN, and
 * the refusals: non-members, non-operators, bad names, a prefix change, a taken name (a room,
 * a registration, an earlier room's history, another room's redirect) and the cool-down.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import IRC from 'irc-framework';
import type { IrcMessage } from '../../src/protocol/index.js';
import { loginClient, registerAccount } from '../helpers/accounts.js';
import { is } from '../helpers/fixture.js';
import { RawClient } from '../helpers/raw-client.js';
import { manualClock, startTestServer, type TestServer } from '../helpers/server.js';

const CAP = 'draft/channel-rename';
const CAPS = [CAP, 'message-tags', 'account-tag', 'server-time', 'echo-message', 'batch', 'draft/chathistory'];
const PASSWORD = 'rename-test-pw';
const INTERVAL = 300;

const failOf = (got: IrcMessage[]) => got.find(is('FAIL'));

async function joined(client: RawClient, room: string): Promise<void> {
  client.send(`JOIN ${room}`);
  await client.expect((m) => m.command === '366' && m.params[1] === room);
}

async function historyTexts(client: RawClient, target: string): Promise<string[]> {
  client.send(`CHATHISTORY LATEST ${target} * 100`);
  const got = await client.sync();
  assert.equal(failOf(got), undefined, JSON.stringify(failOf(got)));
  return got.filter((m) => m.command === 'PRIVMSG' && m.tags?.batch !== undefined).map((m) => m.params[1]!);
}

/** Polls CHATHISTORY until `want` is the history (the move runs just after the rename). */
async function historyBecomes(client: RawClient, target: string, want: string[]): Promise<void> {
  const deadline = Date.now() + 5000;
  let got: string[] = [];
  while (Date.now() < deadline) {
    got = await historyTexts(client, target);
    if (JSON.stringify(got) === JSON.stringify(want)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.deepEqual(got, want);
}

describe('RENAME (draft/channel-rename)', () => {
  const clock = manualClock();
  let server: TestServer;
  let op: RawClient, capped: RawClient, plain: RawClient, outsider: RawClient;
  let framework: FrameworkClient;
  const frameworkSaw: string[] = [];
  const open: RawClient[] = [];
  const track = (c: RawClient) => (open.push(c), c);

  before(async () => {
    server = await startTestServer({ accounts: { scrypt_log_n: 10 }, limits: { room_rename_interval_seconds: INTERVAL } }, { clock: clock.now });
    await registerAccount(server.port, 'opacct', PASSWORD);
    op = track(await loginClient(server.port, 'op', 'opacct', PASSWORD, CAPS));
    capped = track(await RawClient.register(server.port, 'capped', CAPS));
    plain = track(await RawClient.register(server.port, 'plain', ['server-time']));
    outsider = track(await RawClient.register(server.port, 'outsider', CAPS));
    for (const c of [op, capped, plain]) await joined(c, '#old');
    framework = new IRC.Client() as unknown as FrameworkClient;
    for (const kind of ['join', 'part']) framework.on(kind, (e) => e.nick === 'framework' && frameworkSaw.push(`${kind} ${e.channel}`));
    await new Promise<void>((resolve) => {
      framework.on('registered', () => resolve());
      framework.connect({ host: '127.0.0.1', port: server.port, nick: 'framework', auto_reconnect: false });
    });
    framework.join('#old');
    await op.expect((m) => m.command === 'JOIN' && m.source?.startsWith('framework!') === true);
  });

  after(async () => {
    framework?.quit();
    for (const c of open) c.close();
    await server?.stop();
  });

  it('advertises the cap and lists RENAME in HELP', async () => {
    const probe = track(await RawClient.connect({ port: server.port }));
    assert.ok((await probe.capLs()).includes(CAP));
    op.send('HELP RENAME');
    const help = await op.sync();
    assert.ok(help.some((m) => m.command === '705' && /draft\/channel-rename/.test(m.params.at(-1)!)), JSON.stringify(help));
  });

  it('renames: the cap holders see RENAME, the others PART, JOIN, topic and NAMES, and everything moves along', async () => {
    op.send('TOPIC #old :the topic');
    op.send('MODE #old +b bad!*@*');
    op.send('PRIVMSG #old :before the rename');
    await capped.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'before the rename');
    await op.sync();
    await plain.sync();

    op.send('RENAME #old #New :tidier');
    const rename = await op.expect(is('RENAME'));
    assert.deepEqual(rename.params, ['#old', '#New', 'tidier']);
    assert.match(rename.source!, /^op!/);
    assert.equal(rename.tags?.account, 'opacct');
    const seen = await capped.expect(is('RENAME'));
    assert.deepEqual(seen.params, ['#old', '#New', 'tidier']);

    const fallback = await plain.sync();
    const part = fallback.find(is('PART'));
    const join = fallback.find(is('JOIN'));
    assert.deepEqual(part?.params, ['#old', 'tidier']);
    assert.match(part!.source!, /^plain!/, 'the member parts itself');
    assert.deepEqual(join?.params, ['#New']);
    assert.match(join!.source!, /^plain!/);
    assert.deepEqual(fallback.find((m) => m.command === '332')?.params.slice(1), ['#New', 'the topic']);
    const names = fallback.filter((m) => m.command === '353').flatMap((m) => m.params.at(-1)!.split(' '));
    assert.deepEqual(names.sort(), ['@op', 'capped', 'framework', 'plain']);
    assert.ok(fallback.indexOf(part!) < fallback.indexOf(join!));

    // irc-framework (no cap) reads the fallback as leaving #old and joining #New.
    await waitUntil(() => frameworkSaw.includes('join #New'));
    assert.deepEqual(frameworkSaw, ['join #old', 'part #old', 'join #New']);

    // Members, modes and topic are the room's under the new name; the old name is gone.
    op.send('MODE #New b');
    const bans = await op.sync();
    assert.equal(bans.find((m) => m.command === '367')?.params[2], 'bad!*@*');
    op.send('NAMES #old');
    const oldNames = await op.sync();
    assert.equal(oldNames.filter((m) => m.command === '353').length, 0);
    capped.send('PRIVMSG #New :after the rename');
    await plain.expect((m) => m.command === 'PRIVMSG' && m.params[0] === '#New' && m.params[1] === 'after the rename');
    capped.send('PRIVMSG #old :to the old name');
    const refused = await capped.sync();
    assert.ok(refused.some((m) => m.command === '403' || m.command === '401'), JSON.stringify(refused));
    op.send('LIST');
    const listed = (await op.sync()).filter((m) => m.command === '322').map((m) => m.params[1]);
    assert.ok(listed.includes('#New') && !listed.includes('#old'), JSON.stringify(listed));
    op.send('WHOIS plain');
    const whois = await op.sync();
    assert.match(whois.find((m) => m.command === '319')?.params.at(-1) ?? '', /#New/);

    // History moved with the room, under the new name and with it as the target.
    await historyBecomes(op, '#New', ['before the rename', 'after the rename']);
    op.send('CHATHISTORY LATEST #New * 10');
    const lines = (await op.sync()).filter((m) => m.command === 'PRIVMSG');
    assert.ok(lines.every((m) => m.params[0] === '#New'), JSON.stringify(lines.map((m) => m.params[0])));
  });

  it('the old name redirects: FAIL JOIN CHANNEL_RENAMED with the cap, 470 and the new room without it', async () => {
    await joined(outsider, '#elsewhere');
    outsider.send('JOIN #old');
    const got = await outsider.sync();
    assert.deepEqual(failOf(got)?.params, ['JOIN', 'CHANNEL_RENAMED', '#old', '#New', 'The channel has been renamed']);
    assert.equal(got.filter(is('JOIN')).length, 0);
    const late = track(await RawClient.register(server.port, 'late'));
    late.send('JOIN #OLD');
    const redirected = await late.sync();
    assert.deepEqual(redirected.find((m) => m.command === '470')?.params.slice(1, 3), ['#OLD', '#New']);
    assert.deepEqual(redirected.find(is('JOIN'))?.params, ['#New']);
    assert.ok(redirected.some((m) => m.command === '366' && m.params[1] === '#New'));
  });

  it('refuses non-members, non-operators, bad names, a prefix change and taken names', async () => {
    clock.advance(INTERVAL * 1000 + 1); // past the cool-down of the first rename
    await joined(outsider, '#taken');
    const tries: [RawClient, string, (got: IrcMessage[]) => void][] = [
      [outsider, 'RENAME #New #mine', (got) => assert.equal(got.find((m) => m.command === '442')?.params[1], '#New')],
      [outsider, 'RENAME #nowhere #mine', (got) => assert.equal(got.find((m) => m.command === '403')?.params[1], '#nowhere')],
      [capped, 'RENAME #New #mine', (got) => assert.equal(got.find((m) => m.command === '482')?.params[1], '#New')],
      [op, 'RENAME #New', (got) => assert.equal(got.find((m) => m.command === '461')?.params[1], 'RENAME')],
      [op, 'RENAME #New #taken', (got) => assert.deepEqual(failOf(got)?.params.slice(0, 4), ['RENAME', 'CHANNEL_NAME_IN_USE', '#New', '#taken'])],
      [op, 'RENAME #New &local', (got) => assert.deepEqual(failOf(got)?.params.slice(0, 4), ['RENAME', 'CANNOT_RENAME', '#New', '&local'])],
      [op, 'RENAME #New nohash', (got) => assert.deepEqual(failOf(got)?.params.slice(1, 2), ['CANNOT_RENAME'])],
      [op, `RENAME #New #${'x'.repeat(200)}`, (got) => assert.deepEqual(failOf(got)?.params.slice(1, 2), ['CANNOT_RENAME'])],
      [op, 'RENAME #New #a\u0007b', (got) => assert.ok(failOf(got) || got.some((m) => m.command === '417'), JSON.stringify(got))],
      // Not a name: the FAIL shows `*` in its place, so the line stays well-formed.
      [op, 'RENAME #New :#two words', (got) => assert.deepEqual(failOf(got)?.params.slice(0, 4), ['RENAME', 'CANNOT_RENAME', '#New', '*'])],
      [op, 'RENAME #New :', (got) => assert.deepEqual(failOf(got)?.params.slice(0, 4), ['RENAME', 'CANNOT_RENAME', '#New', '*'])],
      [op, 'RENAME #New #New', (got) => assert.deepEqual(failOf(got)?.params.slice(1, 2), ['CANNOT_RENAME'])],
    ];
    for (const [client, line, check] of tries) {
      client.send(line);
      check(await client.sync());
    }
    // Nothing changed: the room is still #New with its members.
    op.send('NAMES #New');
    const names = (await op.sync()).filter((m) => m.command === '353').flatMap((m) => m.params.at(-1)!.split(' '));
    assert.equal(names.length, 5);
  });

  it('a change of case keeps the log and is shown too; a second rename then waits for the cool-down', async () => {
    op.send('RENAME #New #new');
    assert.deepEqual((await capped.expect(is('RENAME'))).params, ['#New', '#new', '']);
    const fallback = await plain.sync();
    assert.deepEqual(fallback.find(is('PART'))?.params, ['#New']);
    assert.deepEqual(fallback.find((m) => m.command === 'JOIN' && m.source?.startsWith('plain!') === true)?.params, ['#new']);
    capped.send('PRIVMSG #NEW :still here');
    await plain.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'still here');
    await historyBecomes(op, '#new', ['before the rename', 'after the rename', 'still here']);
    await op.sync();
    op.send('RENAME #new #newer');
    const early = failOf(await op.sync());
    assert.deepEqual(early?.params.slice(0, 4), ['RENAME', 'CANNOT_RENAME', '#new', '#newer']);
    assert.match(early!.params.at(-1)!, /renamed recently; try again in 5 minute/);
  });

  it("refuses a name whose earlier room left history, or another room's redirect; renaming back is allowed", async () => {
    clock.advance(INTERVAL * 1000 + 1);
    await joined(outsider, '#ghost');
    outsider.send('PRIVMSG #ghost :an earlier room');
    await outsider.sync();
    outsider.send('PART #ghost');
    await outsider.sync();
    op.send('RENAME #new #ghost');
    const ghost = failOf(await op.sync());
    assert.deepEqual(ghost?.params.slice(0, 4), ['RENAME', 'CHANNEL_NAME_IN_USE', '#new', '#ghost']);
    assert.match(ghost!.params.at(-1)!, /history/);
    // #taken (outsider's) may not take #old: it still points at this room.
    outsider.send('RENAME #taken #old');
    assert.deepEqual(failOf(await outsider.sync())?.params.slice(0, 2), ['RENAME', 'CHANNEL_NAME_IN_USE']);
    op.send('RENAME #new #old :back');
    assert.deepEqual((await capped.expect(is('RENAME'))).params, ['#new', '#old', 'back']);
    await historyBecomes(op, '#old', ['before the rename', 'after the rename', 'still here']);
  });
});

interface FrameworkClient {
  connect(options: Record<string, unknown>): void;
  join(channel: string): void;
  quit(message?: string): void;
  on(event: string, listener: (event: { nick?: string; channel?: string }) => void): void;
}

async function waitUntil(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
