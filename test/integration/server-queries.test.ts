// VERSION, TIME, INFO, ADMIN, LINKS, HELP and HELPOP over a real socket, with the exact numerics
// of modern.ircdocs.horse.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { IrcMessage } from '../../src/protocol/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const SERVER = 'irc.test.example';
/** The reply to `line`: everything up to the round trip, as [command, ...params] without the client. */
async function ask(client: RawClient, line: string): Promise<string[][]> {
  client.send(line);
  return (await client.sync()).map((m: IrcMessage) => [m.command, ...m.params.slice(1)]);
}

describe('server queries', () => {
  let server: TestServer;
  let val: RawClient;
  before(async () => {
    server = await startTestServer({
      server: { name: SERVER, network: 'TestNet' },
      admin: { location: 'Helsinki, Finland', organization: 'Example Org', email: 'admin@example.org' },
    });
    val = await RawClient.register(server.port, 'val');
  });
  after(async () => {
    val.close();
    await server.stop();
  });

  it('VERSION: RPL_VERSION, then the same ISUPPORT lines as at registration', async () => {
    const reply = await ask(val, 'VERSION');
    assert.deepEqual(reply[0], ['351', 'parley-0.1.0', SERVER, 'Parley IRC server']);
    const isupport = reply.slice(1);
    assert.ok(isupport.length >= 2 && isupport.every((r) => r[0] === '005' && r.at(-1) === 'are supported by this server'));
    const tokens = isupport.flatMap((r) => r.slice(1, -1));
    assert.ok(tokens.includes('NETWORK=TestNet') && tokens.includes('KNOCK'));
    assert.ok(tokens.some((t) => t.startsWith('TARGMAX=') && t.includes('WHOWAS:1')));
    // A target: this server by mask or by a nick on it; anything else is ERR_NOSUCHSERVER.
    assert.equal((await ask(val, 'VERSION *.example'))[0]![0], '351');
    assert.equal((await ask(val, 'VERSION val'))[0]![0], '351');
    assert.deepEqual(await ask(val, 'VERSION other.server'), [['402', 'other.server', 'No such server']]);
  });

  it('TIME: RPL_TIME with the server name and a readable time', async () => {
    const [time, ...rest] = await ask(val, 'TIME');
    assert.deepEqual(rest, []);
    assert.equal(time![0], '391');
    assert.equal(time![1], SERVER);
    assert.ok(Math.abs(Date.parse(time![2]!) - Date.now()) < 5000, time![2]);
    assert.deepEqual(await ask(val, 'TIME *.fi'), [['402', '*.fi', 'No such server']]);
  });

  it('ADMIN: 256-259 from the admin settings', async () => {
    assert.deepEqual(await ask(val, 'ADMIN'), [
      ['256', SERVER, 'Administrative info'],
      ['257', 'Helsinki, Finland'],
      ['258', 'Example Org'],
      ['259', 'admin@example.org'],
    ]);
    assert.deepEqual(await ask(val, 'ADMIN nowhere'), [['402', 'nowhere', 'No such server']]);
  });

  it('ADMIN without settings says so', async () => {
    const bare = await startTestServer();
    try {
      const c = await RawClient.register(bare.port, 'c');
      const reply = await ask(c, 'ADMIN');
      assert.deepEqual(reply.map((r) => r[0]), ['256', '257', '258', '259']);
      assert.deepEqual(reply.slice(1).map((r) => r[1]), ['Location not configured', 'Parley IRC network', 'No contact address configured']);
      c.close();
    } finally {
      await bare.stop();
    }
  });

  it('INFO: RPL_INFO lines, then RPL_ENDOFINFO', async () => {
    const reply = await ask(val, 'INFO');
    assert.deepEqual(reply.at(-1), ['374', 'End of INFO list']);
    const info = reply.slice(0, -1);
    assert.ok(info.length >= 3 && info.every((r) => r[0] === '371' && r.length === 2));
    assert.match(info[0]![1]!, /^parley-0\.1\.0: Parley IRC server$/);
    assert.ok(info.some((r) => r[1]!.startsWith('Started: ')));
  });

  it('LINKS: this server alone, and a mask that does not match it lists nothing', async () => {
    assert.deepEqual(await ask(val, 'LINKS'), [
      ['364', SERVER, SERVER, '0 Parley IRC server'],
      ['365', '*', 'End of /LINKS list'],
    ]);
    assert.deepEqual(await ask(val, 'LINKS irc.*'), [
      ['364', SERVER, SERVER, '0 Parley IRC server'],
      ['365', 'irc.*', 'End of /LINKS list'],
    ]);
    assert.deepEqual(await ask(val, 'LINKS *.org'), [['365', '*.org', 'End of /LINKS list']]);
    assert.deepEqual(await ask(val, 'LINKS elsewhere *'), [['402', 'elsewhere', 'No such server']]);
  });

  it('HELP <command>: 704 title, empty 705, text, 706 last line; the subject upper-cased', async () => {
    const reply = await ask(val, 'HELP privmsg');
    assert.deepEqual(reply[0], ['704', 'PRIVMSG', 'PRIVMSG <target>{,<target>} :<text>']);
    assert.deepEqual(reply[1], ['705', 'PRIVMSG', '']);
    assert.ok(reply.slice(2, -1).every((r) => r[0] === '705' && r[1] === 'PRIVMSG' && r[2] !== ''));
    assert.equal(reply.at(-1)![0], '706');
    assert.deepEqual(reply.map((r) => r[0]).filter((c) => c === '704' || c === '706'), ['704', '706']);
  });

  it('HELP alone lists every command; HELPOP answers the same', async () => {
    const reply = await ask(val, 'HELP');
    assert.deepEqual(reply[0], ['704', '*', '** Parley help **']);
    const words = reply.flatMap((r) => r[2]!.split(' '));
    for (const command of ['WHOWAS', 'USERHOST', 'ISON', 'KNOCK', 'WALLOPS', 'CHATHISTORY', 'HELPOP']) assert.ok(words.includes(command), command);
    assert.deepEqual(await ask(val, 'HELPOP'), reply);
    assert.deepEqual(await ask(val, 'HELPOP whowas'), await ask(val, 'HELP WHOWAS'));
  });

  it('HELP on an unknown subject: ERR_HELPNOTFOUND alone; an invalid subject is *', async () => {
    assert.deepEqual(await ask(val, 'HELP frobnicate'), [['524', 'FROBNICATE', 'No help available on this topic']]);
    assert.deepEqual(await ask(val, 'HELP :unknown subject'), [['524', '*', 'No help available on this topic']]);
  });

  it('every line of every help topic is at most 512 bytes', async () => {
    val.send('HELP');
    await val.sync();
    const before = val.lines.length;
    for (const topic of ['KLINE', 'CHATHISTORY', 'CMODES', 'CAPS', 'KICK']) val.send(`HELP ${topic}`);
    await val.sync();
    for (const line of val.lines.slice(before)) assert.ok(Buffer.byteLength(line) + 2 <= 512, line);
  });
});
