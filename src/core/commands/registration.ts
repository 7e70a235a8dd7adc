import { foldCase, isValidNick } from '../../protocol/index.js';
import * as N from '../../protocol/numerics.js';
import { timingSafeEqual } from 'node:crypto';
import { numericError } from '../errors.js';
import type { Server } from '../server.js';
import type { Session } from '../session.js';
import type { CommandContext } from './context.js';
import { sendWelcome } from './welcome.js';
import { isServiceName } from '../accounts.js';
import { kickReason } from './operator.js';

// PASS <password>
export function PASS({ session, params }: CommandContext): void {
  if (session.registered) throw numericError(N.ERR_ALREADYREGISTERED, 'You may not reregister');
  session.password = params[0]!;
}

// NICK <nickname>
export function NICK({ server, session, params }: CommandContext): void {
  const nick = params[0] ?? '';
  const limit = server.config.limits.nick_length;
  if (nick === '') throw numericError(N.ERR_NONICKNAMEGIVEN, 'No nickname given');
  if (!isValidNick(nick, limit) || isServiceName(nick)) throw numericError(N.ERR_ERRONEUSNICKNAME, nick, 'Erroneous nickname');
  if (nick === session.nick) return;
  const holder = server.nicks.get(foldCase(nick));
  if (holder && holder !== session) throw numericError(N.ERR_NICKNAMEINUSE, nick, 'Nickname is already in use');
  changeNick(server, session, nick);
  if (!session.registered) tryCompleteRegistration(server, session);
}

/** Take a nick that is known to be free and valid; tell everyone who shares a room. */
export function changeNick(server: Server, session: Session, nick: string): void {
  if (session.registered) {
    const change = server.event(session.prefix, 'NICK', [nick]);
    for (const member of server.audienceOf(session)) member.deliver(change);
    session.send(change);
  }
  if (session.nickKey) server.nicks.delete(session.nickKey);
  session.nick = nick;
  session.nickKey = foldCase(nick);
  server.nicks.set(session.nickKey, session);
  if (session.registered) void protectNick(server, session);
}

/**
 * Nick protection: whoever holds a registered nick without being logged in to that account is
 * warned, and renamed once accounts.nick_protection_seconds have passed (Server.sweep).
 */
export async function protectNick(server: Server, session: Session): Promise<void> {
  const key = session.nickKey;
  session.protectedNick = null;
  if (session.accountKey === key) return;
  const account = await server.accounts.get(key).catch(() => null);
  if (!account || session.nickKey !== key || session.accountKey === key || session.state === 'closing') return;
  const seconds = server.config.accounts.nick_protection_seconds;
  session.protectedNick = { key, deadline: Date.now() + seconds * 1000 };
  session.sendMessage({
    source: `NickServ!NickServ@services.${server.name}`,
    command: 'NOTICE',
    params: [session.nick, `This nick is registered. Log in within ${seconds} seconds (/msg NickServ IDENTIFY <password>) or your nick will be changed.`],
  });
}

/** A free guest nick for someone who held a registered nick without logging in. */
export function guestNick(server: Server): string {
  for (;;) {
    const nick = `Guest${Math.floor(10000 + Math.random() * 90000)}`;
    if (!server.nicks.has(foldCase(nick))) return nick;
  }
}

// USER <username> <mode> <unused> :<realname>
export function USER({ server, session, params }: CommandContext): void {
  if (session.registered) throw numericError(N.ERR_ALREADYREGISTERED, 'You may not reregister');
  const [username, , , realname] = params as [string, string, string, string];
  // The username is shown in prefixes: keep it short and free of separators.
  const clean = username.replace(/[^A-Za-z0-9._-]/g, '').slice(0, 18);
  session.user = `~${clean || 'user'}`.slice(0, 18);
  session.realname = realname.slice(0, server.config.limits.realname_length);
  tryCompleteRegistration(server, session);
}

// PING <token>
export function PING({ server, session, params }: CommandContext): void {
  session.sendMessage({ source: server.name, command: 'PONG', params: [server.name, params[0]!] });
}

// PONG <token>: liveness is tracked for any line, see Session.handleLine.
export function PONG(): void {}

// QUIT [<reason>]
export function QUIT({ server, session, params }: CommandContext): void {
  const reason = params[0] ? `Quit: ${params[0]}` : 'Quit';
  server.quit(session, reason.slice(0, server.config.limits.away_length));
}

/** Registration ends once NICK and USER are in and CAP negotiation (if any) is over. */
export function tryCompleteRegistration(server: Server, session: Session): void {
  if (session.registered || session.capNegotiating || !session.nickKey || !session.user) return;
  const required = server.config.server.password;
  if (required !== null && !passwordMatches(session.password, required)) {
    session.numeric(N.ERR_PASSWDMISMATCH, 'Password incorrect');
    server.quit(session, 'Bad password');
    return;
  }
  // KLINE: the user part is known only now (USER), so this is where it is checked.
  const kline = server.bans.klineFor(session.user, session.conn.remoteAddress);
  if (kline) {
    session.numeric(N.ERR_YOUREBANNEDCREEP, `You are banned from this server: ${kline.reason}`);
    server.quit(session, kickReason(kline));
    return;
  }
  session.state = 'registered';
  session.counted = true;
  server.counts.registered++;
  session.password = null;
  server.logger.debug('registered', { session: session.id, nick: session.nick, address: session.host });
  sendWelcome(server, session);
  void protectNick(server, session);
}

function passwordMatches(given: string | null, required: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(required);
  return a.length === b.length && timingSafeEqual(a, b);
}
