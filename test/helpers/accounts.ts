import assert from 'node:assert/strict';
import { RawClient } from './raw-client.js';

/** Register an account over draft/account-registration (before connecting), then disconnect. */
export async function registerAccount(port: number, name: string, password: string): Promise<void> {
  const client = await RawClient.connect({ port });
  client.send('CAP LS 302');
  client.send('CAP REQ :draft/account-registration');
  await client.expect((m) => m.command === 'CAP' && m.params[1] === 'ACK');
  client.send(`NICK ${name}`);
  client.send(`REGISTER * * :${password}`);
  const reply = await client.expect((m) => m.command === 'REGISTER' || m.command === 'FAIL');
  assert.deepEqual(reply.params.slice(0, 2), ['SUCCESS', name]);
  await client.expect((m) => m.command === '900');
  client.close();
}

/** Connect as `nick`, log in to `account` with SASL PLAIN, request `caps`, and register. */
export async function loginClient(port: number, nick: string, account: string, password: string, caps: string[] = []): Promise<RawClient> {
  const client = await RawClient.connect({ port });
  client.send('CAP LS 302');
  client.send(`CAP REQ :${['sasl', ...caps].join(' ')}`);
  await client.expect((m) => m.command === 'CAP' && m.params[1] === 'ACK');
  client.send(`NICK ${nick}`);
  client.send(`USER ${nick} 0 * :${nick}`);
  client.send('AUTHENTICATE PLAIN');
  await client.expect((m) => m.command === 'AUTHENTICATE' && m.params[0] === '+');
  client.send(`AUTHENTICATE ${Buffer.from(`${account}\0${account}\0${password}`).toString('base64')}`);
  const result = await client.expect((m) => m.command === '903' || m.command === '904');
  assert.equal(result.command, '903', `SASL login of ${account} failed`);
  client.send('CAP END');
  await client.expect((m) => m.command === '001');
  await client.expect((m) => m.command === '376' || m.command === '422');
  client.nick = nick;
  return client;
}
