import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IrcMessage } from '../../src/protocol/index.js';
import { is, join, sharedServer } from '../helpers/fixture.js';

const privmsg = (text: string) => (m: IrcMessage) => m.command === 'PRIVMSG' && m.params[1] === text;

describe('bot mode (IRCv3 bot-mode: +B, BOT=B, 335, the B flag, the bot tag)', () => {
  const shared = sharedServer();

  it('a client marks itself +B; ISUPPORT, 221, WHOIS 335 and WHO B say so; -B takes it back', async () => {
    const bot = await shared.register('helperbot');
    const human = await shared.register('human');
    bot.send('VERSION');
    assert.ok((await bot.sync()).filter(is('005')).some((m) => m.params.includes('BOT=B')));
    bot.send('MODE helperbot +B');
    const change = await bot.expect(is('MODE'));
    assert.deepEqual(change.params, ['helperbot', '+B']);
    bot.send('MODE helperbot');
    assert.equal((await bot.expect(is('221'))).params[1], '+B');
    await join(bot, '#bots');
    human.send('WHOIS helperbot');
    const whois = await human.sync();
    const botLine = whois.find(is('335'));
    assert.ok(botLine, whois.map((m) => m.command).join(' '));
    assert.deepEqual(botLine.params.slice(1, 2), ['helperbot']);
    human.send('WHO #bots');
    assert.equal((await human.expect(is('352'))).params[6], 'H@B');
    human.send('WHO helperbot %nf');
    assert.deepEqual((await human.expect(is('354'))).params.slice(1), ['helperbot', 'H@B']);
    bot.send('MODE helperbot -B');
    await bot.expect(is('MODE'));
    human.send('WHOIS helperbot');
    assert.ok(!(await human.sync()).some(is('335')));
  });

  it('messages from a bot carry the bot tag, to clients with message-tags only, in history too; a client cannot forge it', async () => {
    const bot = await shared.register('newsbot', ['message-tags']);
    const tagged = await shared.register('tagreader', ['message-tags', 'draft/chathistory', 'batch', 'server-time']);
    const plain = await shared.register('plainreader');
    for (const client of [bot, tagged, plain]) await join(client, '#news');
    bot.send('MODE newsbot +B');
    await bot.expect(is('MODE'));
    bot.send('PRIVMSG #news :headline');
    const got = await tagged.expect(privmsg('headline'));
    assert.equal(got.tags?.bot, '');
    assert.equal((await plain.expect(privmsg('headline'))).tags, undefined);
    bot.send('PRIVMSG tagreader :just for you');
    assert.equal((await tagged.expect(privmsg('just for you'))).tags?.bot, '');
    // A human sending the tag gets it dropped (only +client tags are relayed).
    tagged.send('@bot PRIVMSG #news :not a bot');
    assert.equal((await bot.expect(privmsg('not a bot'))).tags?.bot, undefined);
    tagged.send('CHATHISTORY LATEST #news * 10');
    const replayed = (await tagged.sync()).filter((m) => m.command === 'PRIVMSG');
    assert.equal(replayed.find((m) => m.params[1] === 'headline')?.tags?.bot, '');
    assert.equal(replayed.find((m) => m.params[1] === 'not a bot')?.tags?.bot, undefined);
  });
});
