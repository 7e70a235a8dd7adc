/** Logging in and creating accounts once connected: SASL when offered, else NickServ. */
import type { ClientConnection } from './connection.js';
import type { SaslCredentials } from './options.js';
import { registerAccountNow } from './registration.js';
import { authenticate, type AccountResult } from './sasl-exchange.js';

export type { AccountResult };

export async function login(client: ClientConnection, account: string, password: string, mechanism?: SaslCredentials['mechanism']): Promise<AccountResult> {
  const result = client.caps.has('sasl')
    ? await authenticate(client, account, password, mechanism)
    : await askNickServ(client, ['IDENTIFY', account, password]);
  // Kept for reconnects, which then log in while connecting.
  if (result.ok) client.saslCredentials = mechanism ? { account, password, mechanism } : { account, password };
  return result;
}

export async function registerAccount(client: ClientConnection, account: string, password: string, email?: string): Promise<AccountResult> {
  if (client.caps.has('draft/account-registration')) return registerAccountNow(client, account, password, email);
  const result = await askNickServ(client, ['REGISTER', password, ...(email ? [email] : [])]);
  if (result.ok) client.saslCredentials = { account, password };
  return result;
}

/** A NickServ command: success is a 900 (logged in); whatever NickServ says first is the error. */
async function askNickServ(client: ClientConnection, words: string[]): Promise<AccountResult> {
  const inbox = client.inbox((m) => m.command === '900' || (m.command === 'NOTICE' && /^nickserv!/i.test(m.source ?? '')));
  try {
    client.sendMessage({ command: 'PRIVMSG', params: ['NickServ', words.join(' ')] });
    const reply = await inbox.next(client.options.requestTimeoutMs ?? 15_000);
    return reply.command === '900' ? { ok: true } : { ok: false, error: reply.params.at(-1) ?? '' };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  } finally {
    inbox.close();
  }
}
