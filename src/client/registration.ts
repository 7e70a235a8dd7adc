/**
 * Connection registration: CAP LS 302 negotiation, account registration before connecting,
 * SASL, CAP END (https://ircv3.net/specs/extensions/capability-negotiation). Runs while the
 * server holds our NICK/USER back; the welcome (001) then arrives through dispatch.
 */
import type { IrcMessage } from '../protocol/index.js';
import type { ClientConnection } from './connection.js';
import { authenticate, type AccountResult } from './sasl-exchange.js';
import type { Inbox } from './inbox.js';

/** The capabilities the engine understands, requested when the server offers them. */
export const WANTED_CAPS = [
  'server-time',
  'message-tags',
  'echo-message',
  'batch',
  'labeled-response',
  'multi-prefix',
  'away-notify',
  'extended-join',
  'account-tag',
  'account-notify',
  'invite-notify',
  'setname',
  'sasl',
  'draft/chathistory',
  'draft/channel-rename',
  'draft/multiline',
  'draft/read-marker',
  'draft/account-registration',
  'cap-notify',
  'standard-replies',
];

const REPLY_TIMEOUT_MS = 15_000;
const MAX_REQ_CHARS = 400;

/** Everything between connecting and CAP END. Errors end it early; the connection goes on. */
export async function negotiate(client: ClientConnection): Promise<void> {
  const inbox = client.inbox((m) => m.command === 'CAP' || m.command === '001' || m.command === '421' || m.command === '410');
  try {
    const offered = await readCapList(inbox);
    // No CAP support (an old server): NICK and USER already registered us.
    if (offered === null) return;
    for (const [name, value] of offered) client.offeredCaps.set(name, value);
    await requestCaps(client, inbox, client.wantedCaps.filter((cap) => offered.has(cap)));
    const register = client.options.register;
    // REGISTER SUCCESS logs us in; the 900 that follows may not have been handled yet, so a
    // successful registration (not client.account) is what makes SASL unnecessary.
    let registeredNow = false;
    if (register && client.caps.has('draft/account-registration')) {
      const result = await registerAccountNow(client, register.account, register.password, register.email);
      registeredNow = result.ok;
      if (!result.ok) {
        client.emitter.emit('error', { kind: 'fail', command: 'REGISTER', text: `Creating the account ${register.account} failed: ${result.error}` });
      }
    }
    const sasl = client.saslCredentials;
    if (sasl && client.caps.has('sasl') && client.account === null && !registeredNow) {
      const result = await authenticate(client, sasl.account, sasl.password, sasl.mechanism);
      if (!result.ok) {
        // Wrong credentials stay wrong: do not retry them on every reconnect.
        client.saslCredentials = null;
        client.emitter.emit('error', { kind: 'sasl', text: `Login as ${sasl.account} failed: ${result.error}` });
      }
    }
  } catch (err) {
    if (!client.connected) return;
    client.emitter.emit('error', { kind: 'protocol', command: 'CAP', text: `Capability negotiation: ${(err as Error).message}` });
  } finally {
    inbox.close();
  }
  if (client.connected && !client.registered) client.send('CAP END');
}

/** CAP LS, possibly over several lines (`CAP * LS * :...`). null: the server does not do CAP. */
async function readCapList(inbox: Inbox): Promise<Map<string, string> | null> {
  const caps = new Map<string, string>();
  for (;;) {
    const m = await inbox.next(REPLY_TIMEOUT_MS);
    if (m.command !== 'CAP') return null;
    if (m.params[1]?.toUpperCase() !== 'LS') continue;
    const more = m.params[2] === '*' && m.params.length >= 4;
    for (const item of (m.params.at(-1) ?? '').split(' ')) {
      if (item === '') continue;
      const eq = item.indexOf('=');
      caps.set(eq === -1 ? item : item.slice(0, eq), eq === -1 ? '' : item.slice(eq + 1));
    }
    if (!more) return caps;
  }
}

/** CAP REQ in lines short enough for any server, each answered by ACK or NAK. */
async function requestCaps(client: ClientConnection, inbox: Inbox, caps: string[]): Promise<void> {
  const lines: string[] = [];
  for (const cap of caps) {
    if (lines.length > 0 && lines.at(-1)!.length + 1 + cap.length <= MAX_REQ_CHARS) lines[lines.length - 1] += ` ${cap}`;
    else lines.push(cap);
  }
  for (const line of lines) {
    client.sendMessage({ command: 'CAP', params: ['REQ', line] });
    for (;;) {
      const reply = await inbox.next(REPLY_TIMEOUT_MS);
      const sub = reply.params[1]?.toUpperCase();
      if (sub === 'ACK' || sub === 'NAK') break;
    }
  }
}

/** Caps as they change: ACK/NAK (ours), NEW and DEL (cap-notify). */
export function handleCap(client: ClientConnection, m: IrcMessage): void {
  const sub = m.params[1]?.toUpperCase();
  const list = (m.params.at(-1) ?? '').split(' ').filter((c) => c !== '');
  if (sub === 'ACK') {
    for (const cap of list) {
      if (cap.startsWith('-')) client.caps.delete(cap.slice(1));
      else client.caps.add(cap);
    }
  } else if (sub === 'DEL') {
    for (const cap of list) client.caps.delete(cap);
  } else if (sub === 'NEW' && client.registered) {
    const wanted = list.map((c) => c.split('=')[0]!).filter((c) => client.wantedCaps.includes(c) && !client.caps.has(c));
    for (const item of list) {
      const eq = item.indexOf('=');
      client.offeredCaps.set(eq === -1 ? item : item.slice(0, eq), eq === -1 ? '' : item.slice(eq + 1));
    }
    if (wanted.length > 0) client.sendMessage({ command: 'CAP', params: ['REQ', wanted.join(' ')] });
  }
}

/**
 * REGISTER <account> <email or *> <password> (draft/account-registration). Success logs us in
 * (900 arrives through dispatch); the credentials are kept for logging in after a reconnect.
 */
export async function registerAccountNow(client: ClientConnection, account: string, password: string, email?: string): Promise<AccountResult> {
  const inbox = client.inbox((m) => m.command === 'REGISTER' || (m.command === 'FAIL' && m.params[0] === 'REGISTER'));
  const done = client.awaiting('REGISTER');
  try {
    // Without custom-account-name the account must be the nick, spelled `*`.
    const custom = (client.offeredCaps.get('draft/account-registration') ?? '').split(',').includes('custom-account-name');
    const name = custom && account !== client.nick ? account : '*';
    client.sendMessage({ command: 'REGISTER', params: [name, email || '*', password] });
    const reply = await inbox.next(REPLY_TIMEOUT_MS);
    if (reply.command === 'FAIL') return { ok: false, error: reply.params.at(-1) ?? 'refused' };
    client.saslCredentials = { account: reply.params[1] ?? account, password };
    return { ok: true };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  } finally {
    done();
    inbox.close();
  }
}
