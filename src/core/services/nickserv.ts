import { foldCase } from '../../protocol/index.js';
import type { AccountRecord } from '../../store/store.js';
import type { Server } from '../server.js';
import type { Session } from '../session.js';
import { claimNick } from '../commands/registration.js';

export const NICKSERV = 'NickServ';

const HELP = [
  'NickServ lets you register your nick as an account and log in to it.',
  'REGISTER <password> [email]   register your current nick',
  'IDENTIFY [account] <password> log in',
  'GHOST <nick> [password]       disconnect a session using your nick',
  'REGAIN <nick> [password]      disconnect it and take the nick',
  'SET PASSWORD <new password>   change your password',
  'DROP <password>               delete your account',
  'INFO [account]                show account information',
];

/** A message to NickServ: `PRIVMSG NickServ :IDENTIFY secret`. Replies are NOTICEs from NickServ. */
export async function nickServ(server: Server, session: Session, text: string): Promise<void> {
  const [command = '', ...args] = text.trim().split(/\s+/);
  const reply = (line: string) =>
    session.sendMessage({ source: `${NICKSERV}!${NICKSERV}@services.${server.name}`, command: 'NOTICE', params: [session.nick, line] });
  switch (command.toUpperCase()) {
    case 'REGISTER':
      return register(server, session, args, reply);
    case 'IDENTIFY':
    case 'LOGIN':
      return identify(server, session, args, reply);
    case 'GHOST':
      return ghost(server, session, args, reply, false);
    case 'REGAIN':
      return ghost(server, session, args, reply, true);
    case 'SET':
      return setPassword(server, session, args, reply);
    case 'DROP':
      return drop(server, session, args, reply);
    case 'INFO':
      return info(server, session, args, reply);
    case 'HELP':
    case '':
      for (const line of HELP) reply(line);
      return;
    default:
      reply(`Unknown command ${command}. Try HELP.`);
  }
}

type Reply = (line: string) => void;

async function register(server: Server, session: Session, args: string[], reply: Reply): Promise<void> {
  const [password, email] = args;
  if (!password) return reply('Syntax: REGISTER <password> [email]');
  if (session.account) return reply(`You are already logged in as ${session.account}.`);
  if (!server.config.accounts.registration) return reply('Account registration is disabled on this server.');
  const address = session.conn.remoteAddress;
  const wait = server.addressLimits.takeRegistration(address);
  if (wait > 0) return reply(`Too many accounts registered from your address; try again in ${Math.ceil(wait / 60_000)} minutes.`);
  const result = await server.accounts.register(session.nick, password, email ?? null, server.config.limits.nick_length);
  if (!result.ok) {
    server.addressLimits.refundRegistration(address);
    if (result.code === 'ACCOUNT_EXISTS') return reply(`${session.nick} is already registered.`);
    if (result.code === 'WEAK_PASSWORD') return reply(`Password too short: use at least ${server.config.accounts.password_min_length} characters.`);
    return reply(`${session.nick} cannot be registered as an account name.`);
  }
  server.accounts.login(server, session, result.account);
  reply(`Account ${result.account.name} registered; you are now logged in.`);
}

async function identify(server: Server, session: Session, args: string[], reply: Reply): Promise<void> {
  const [name, password] = args.length >= 2 ? [args[0]!, args[1]!] : [session.nick, args[0]];
  if (!password) return reply('Syntax: IDENTIFY [account] <password>');
  if (session.account) return reply(`You are already logged in as ${session.account}.`);
  const result = await checkPassword(server, session, name, password, reply);
  if (!result) return;
  server.accounts.login(server, session, result);
  reply(`You are now logged in as ${result.name}.`);
}

async function ghost(server: Server, session: Session, args: string[], reply: Reply, regain: boolean): Promise<void> {
  const [nick, password] = args;
  if (!nick) return reply(`Syntax: ${regain ? 'REGAIN' : 'GHOST'} <nick> [password]`);
  const account = await server.accounts.get(nick);
  if (!account) return reply(`${nick} is not a registered nick.`);
  if (session.accountKey !== account.key) {
    if (!password) return reply(`Log in to ${account.name} first, or give its password.`);
    const checked = await checkPassword(server, session, account.name, password, reply);
    if (!checked) return;
    if (!session.account) server.accounts.login(server, session, checked);
  }
  // Registered or not: a client still registering may hold the nick too.
  const holder = server.nicks.get(foldCase(nick));
  if (holder && holder !== session) {
    server.quit(holder, `GHOST command used by ${session.nick}`);
    // The nick is free network-wide once the holder's record is removed.
    await holder.removal;
    reply(`${nick} has been disconnected.`);
  } else if (!holder && !(await ghostRemote(server, session, nick, reply, regain))) return;
  else if (holder && !regain) reply(`Nobody else is using ${nick}.`);
  if (session.state === 'closing') return;
  if (regain && foldCase(session.nick) !== foldCase(nick)) await claimNick(server, session, account.name);
}

/**
 * GHOST of a session on another node: its node ends it (remote-users.ts) and answers once the
 * nick is free network-wide. False when that answer did not come in time (REGAIN then stops).
 */
async function ghostRemote(server: Server, session: Session, nick: string, reply: Reply, regain: boolean): Promise<boolean> {
  const remote = await server.users.remoteByNick(nick);
  const outcome = remote ? await server.remoteUsers.kill(remote, session.nick, `GHOST command used by ${session.nick}`) : 'absent';
  if (outcome === 'timeout') {
    reply(`${nick} did not disconnect in time (its server did not answer); try again.`);
    return false;
  }
  if (outcome === 'done') reply(`${nick} has been disconnected.`);
  else if (!regain) reply(`Nobody else is using ${nick}.`);
  return true;
}

async function setPassword(server: Server, session: Session, args: string[], reply: Reply): Promise<void> {
  const [what, password] = args;
  if (what?.toUpperCase() !== 'PASSWORD' || !password) return reply('Syntax: SET PASSWORD <new password>');
  if (!session.account) return reply('Log in first.');
  if (password.length < server.config.accounts.password_min_length) {
    return reply(`Password too short: use at least ${server.config.accounts.password_min_length} characters.`);
  }
  await server.accounts.setPassword(session.account, password);
  reply('Password changed.');
}

async function drop(server: Server, session: Session, args: string[], reply: Reply): Promise<void> {
  const [password] = args;
  if (!session.account || !session.accountKey) return reply('Log in to the account you want to drop first.');
  if (!password) return reply('Syntax: DROP <password> (this deletes your account)');
  const checked = await checkPassword(server, session, session.account, password, reply);
  if (!checked) return;
  const name = session.account;
  await server.accounts.drop(server, checked.key);
  reply(`Account ${name} has been dropped.`);
}

async function info(server: Server, session: Session, args: string[], reply: Reply): Promise<void> {
  const name = args[0] ?? session.account ?? session.nick;
  const account = await server.accounts.get(name);
  if (!account) return reply(`${name} is not registered.`);
  reply(`Account ${account.name}, registered ${new Date(account.createdAt).toUTCString()}`);
  const online = server.accounts.sessionsByAccount.get(account.key)?.size ?? 0;
  reply(`Logged in now from ${online} connection(s).`);
}

async function checkPassword(server: Server, session: Session, name: string, password: string, reply: Reply): Promise<AccountRecord | null> {
  const result = await server.accounts.checkPassword(name, password, session.host);
  if (!('reason' in result)) {
    server.logins.succeeded(session, 'nickserv', result.name);
    return result;
  }
  server.logins.failed(session, 'nickserv', name, result);
  if (result.reason === 'throttled') reply(`Too many failed attempts; try again in ${Math.ceil(result.retryAfterMs / 1000)} seconds.`);
  else reply('Invalid account or password.');
  return null;
}
