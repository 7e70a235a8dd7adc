import assert from 'node:assert/strict';
import type { ScramClient } from '../../src/auth/scram.js';
import type { IrcMessage } from '../../src/protocol/index.js';
import { RawClient, type RawClientOptions } from './raw-client.js';

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
export async function loginClient(
  port: number,
  nick: string,
  account: string,
  password: string,
  caps: string[] = [],
  options: Partial<RawClientOptions> = {},
): Promise<RawClient> {
  const client = await RawClient.connect({ port, ...options });
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

/** On a connected client: SASL PLAIN as `account` asking for `nick`, up to and including CAP END. */
export async function loginUpToEnd(client: RawClient, nick: string, account: string, password: string): Promise<void> {
  client.send('CAP LS 302');
  client.send('CAP REQ :sasl');
  await client.expect((m) => m.command === 'CAP' && m.params[1] === 'ACK');
  client.send(`NICK ${nick}`);
  client.send(`USER ${nick} 0 * :${nick}`);
  client.send('AUTHENTICATE PLAIN');
  await client.expect((m) => m.command === 'AUTHENTICATE');
  client.send(`AUTHENTICATE ${b64(`${account}\0${account}\0${password}`)}`);
  await client.expect((m) => m.command === '903');
  client.send('CAP END');
}

/** `loginUpToEnd`, then what registration ended with: 001, or 433 (a refused nick, e.g. multiclient's). */
export async function loginReply(client: RawClient, nick: string, account: string, password: string): Promise<IrcMessage> {
  await loginUpToEnd(client, nick, account, password);
  return client.expect((m) => m.command === '001' || m.command === '433');
}

export const b64 = (text: string) => Buffer.from(text).toString('base64');
export const fromB64 = (text: string) => Buffer.from(text, 'base64').toString('utf8');

/** Connect, negotiate sasl, run `authenticate`, and register once it is over. */
export async function connectWithSasl(
  port: number,
  nick: string,
  authenticate: (c: RawClient) => Promise<void>,
  options: Partial<RawClientOptions> = {},
): Promise<RawClient> {
  const client = await RawClient.connect({ port, ...options });
  client.send('CAP LS 302');
  client.send('CAP REQ :sasl');
  await client.expect((m) => m.command === 'CAP' && m.params[1] === 'ACK');
  client.send(`NICK ${nick}`);
  client.send(`USER ${nick} 0 * :${nick}`);
  await authenticate(client);
  return client;
}

/** SCRAM-SHA-256 through the client proof; what the server answers next is the test's to check. */
export async function scramUpToProof(client: RawClient, scram: ScramClient): Promise<void> {
  client.send('AUTHENTICATE SCRAM-SHA-256');
  await client.expect((m) => m.command === 'AUTHENTICATE' && m.params[0] === '+');
  client.send(`AUTHENTICATE ${b64(scram.first())}`);
  const serverFirst = await client.expect((m) => m.command === 'AUTHENTICATE' || m.command === '904');
  if (serverFirst.command === '904') {
    client.received.unshift(serverFirst); // refused before the proof: leave it for the caller
    return;
  }
  client.send(`AUTHENTICATE ${b64(scram.final(fromB64(serverFirst.params[0]!)))}`);
}

/** One SASL PLAIN exchange: '903' or '904'. */
export async function saslPlain(client: RawClient, account: string, password: string): Promise<string> {
  return (await saslPlainReply(client, account, password)).command;
}

/** One SASL PLAIN exchange: the 903 or 904 that ends it. */
export async function saslPlainReply(client: RawClient, account: string, password: string) {
  client.send('AUTHENTICATE PLAIN');
  await client.expect((m) => m.command === 'AUTHENTICATE' && m.params[0] === '+');
  client.send(`AUTHENTICATE ${b64(`${account}\0${account}\0${password}`)}`);
  return client.expect((m) => ['903', '904'].includes(m.command));
}
