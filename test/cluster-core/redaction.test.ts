/**
 * REDACT across two nodes (one Redis prefix, one SQLite store): a redaction on node A reaches
 * the members on node B through the room's log, in the room's order, and B's history no longer
 * returns the message; a direct message's redaction reaches its recipient on B through B's
 * inbox. Room operators on B may redact a message sent on A (the sender of record is read from
 * the shared store, not from either node's memory).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { hashPassword } from '../../src/auth/password.js';
import type { IrcMessage } from '../../src/protocol/index.js';
import { loginClient, registerAccount } from '../helpers/accounts.js';
import type { RawClient } from '../helpers/raw-client.js';
import type { TestServer } from '../helpers/server.js';
import { redisSkipReason } from '../cluster/redis-helpers.js';
import { twoNodes } from './two-nodes.js';

const skip = await redisSkipReason();
const CAP = 'draft/message-redaction';
const CAPS = ['echo-message', 'message-tags', 'server-time', 'batch', 'draft/chathistory', CAP];
const PASSWORD = 'two-node-redaction';
const OPERS = [{ name: 'admin', password_hash: await hashPassword('operpass', { N: 1024 }) }];

const isRedact = (m: IrcMessage) => m.command === 'REDACT';
const line = (m: IrcMessage) => `${m.command} ${m.params.join(' ')}`;

describe('REDACT across two nodes', { skip }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-redact-'));
  const nodes = twoNodes('redact', { data_dir: dataDir, accounts: { scrypt_log_n: 10 }, opers: OPERS });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  const login = async (server: TestServer, nick: string, caps = CAPS): Promise<RawClient> => {
    const c = await loginClient(server.port, nick, nick, PASSWORD, caps);
    nodes.clients.push(c);
    return c;
  };
  const joinRoom = async (c: RawClient, room: string) => {
    c.send(`JOIN ${room}`);
    await c.expect((m) => m.command === '366');
  };
  const historyTexts = async (c: RawClient, target: string): Promise<string[]> => {
    c.send(`CHATHISTORY LATEST ${target} * 50`);
    const got = await c.sync();
    return got.filter((m) => m.command === 'PRIVMSG' && m.tags?.batch !== undefined).map((m) => m.params[1]!);
  };

  it('a redaction on A reaches B’s members with the cap, after the message and before what follows; B’s history drops it', async () => {
    for (const name of ['ann', 'ben', 'olga']) await registerAccount(nodes.a.port, name, PASSWORD);
    const olga = await login(nodes.b, 'olga'); // first in: the room's operator, on B
    await joinRoom(olga, '#x');
    const ann = await login(nodes.a, 'ann');
    const ben = await login(nodes.b, 'ben');
    const cid = await nodes.register(nodes.b, 'cid', ['message-tags', 'server-time']);
    for (const c of [ann, ben, cid]) await joinRoom(c, '#x');
    await ben.sync();

    ann.send('PRIVMSG #x :first');
    const first = await ann.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'first');
    const msgid = first.tags!.msgid!;
    // Redaction and the next message in one go: B shows them in the log's order.
    ann.send(`REDACT #x ${msgid} :typo`);
    ann.send('PRIVMSG #x :second');
    await ann.expect((m) => isRedact(m) && m.params[1] === msgid);
    await ann.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'second');

    const onB: IrcMessage[] = [];
    while (onB.length < 3) onB.push(await ben.expect((m) => m.command === 'PRIVMSG' || isRedact(m)));
    assert.deepEqual(onB.map(line), ['PRIVMSG #x first', `REDACT #x ${msgid} typo`, 'PRIVMSG #x second']);
    assert.ok(onB[1]!.source!.startsWith('ann!'));
    await cid.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'second');
    await cid.sync();
    assert.ok(!cid.lines.some((l) => l.includes(' REDACT ')), 'no REDACT without the cap');

    assert.deepEqual(await historyTexts(ben, '#x'), ['second']);
    assert.deepEqual(await historyTexts(ann, '#x'), ['second']);
  });

  it('a room operator on B redacts a message sent on A; a plain member on B may not', async () => {
    const [ann, ben, olga] = ['ann', 'ben', 'olga'].map((nick) => nodes.clients.find((c) => c.nick === nick)!);
    ann.send('PRIVMSG #x :from A');
    const msgid = (await ann.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'from A')).tags!.msgid!;
    await olga.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'from A');
    await ben.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'from A');

    ben.send(`REDACT #x ${msgid}`);
    const refused = (await ben.sync()).find((m) => m.command === 'FAIL');
    assert.deepEqual(refused?.params.slice(0, 4), ['REDACT', 'REDACT_FORBIDDEN', '#x', msgid]);

    olga.send(`REDACT #x ${msgid} :moderated`);
    await olga.expect((m) => isRedact(m) && m.params[1] === msgid);
    const onA = await ann.expect(isRedact);
    assert.deepEqual([onA.source!.split('!')[0], ...onA.params], ['olga', '#x', msgid, 'moderated']);
    assert.deepEqual(await historyTexts(ann, '#x'), ['second']);
  });

  it('an IRC operator on A, where the room has no member (no copy), redacts in it: B’s members are told', async () => {
    const ben = nodes.clients.find((c) => c.nick === 'ben')!;
    await joinRoom(ben, '#only-b');
    ben.send('PRIVMSG #only-b :only on B');
    const msgid = (await ben.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'only on B')).tags!.msgid!;
    const oper = await nodes.register(nodes.a, 'oper', CAPS);
    oper.send('OPER admin operpass');
    await oper.expect((m) => m.command === '381');
    assert.equal(nodes.a.server.rooms.has('#only-b'), false, 'A keeps no copy of the room');

    oper.send(`REDACT #only-b ${msgid} :network policy`);
    const echo = await oper.expect((m) => isRedact(m) && m.params[1] === msgid);
    assert.deepEqual(echo.params, ['#only-b', msgid, 'network policy']);
    const onB = await ben.expect(isRedact);
    assert.deepEqual([onB.source!.split('!')[0], ...onB.params], ['oper', '#only-b', msgid, 'network policy']);
    assert.deepEqual(await historyTexts(ben, '#only-b'), []);
    // A room that exists nowhere is still INVALID_TARGET, operator or not.
    oper.send(`REDACT #nowhere ${msgid}`);
    assert.deepEqual((await oper.sync()).find((m) => m.command === 'FAIL')?.params.slice(0, 3), ['REDACT', 'INVALID_TARGET', '#nowhere']);
  });

  it('a direct message’s redaction reaches its recipient on the other node, and both histories drop it', async () => {
    const [ann, ben] = ['ann', 'ben'].map((nick) => nodes.clients.find((c) => c.nick === nick)!);
    ann.send('PRIVMSG ben :just between us');
    const msgid = (await ann.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'just between us')).tags!.msgid!;
    const got = await ben.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'just between us');
    assert.equal(got.tags!.msgid, msgid);
    ann.send('PRIVMSG ben :still here');
    await ben.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'still here');

    ann.send(`REDACT ben ${msgid}`);
    await ann.expect((m) => isRedact(m) && m.params[1] === msgid);
    const onB = await ben.expect(isRedact);
    assert.deepEqual([onB.source!.split('!')[0], ...onB.params], ['ann', 'ben', msgid]);
    assert.deepEqual(await historyTexts(ben, 'ann'), ['still here']);
    assert.deepEqual(await historyTexts(ann, 'ben'), ['still here']);
  });
});
