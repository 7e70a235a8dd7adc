import { foldCase, isValidNick, NICK_RULES } from '../../protocol/index.js';
import * as N from '../../protocol/numerics.js';
import { timingSafeEqual } from 'node:crypto';
import { numericError } from '../errors.js';
import type { Server } from '../server.js';
import type { Session } from '../session.js';
import type { CommandContext } from './context.js';
import { sendWelcome } from './welcome.js';
import { isServiceName } from '../accounts.js';
import { kickReason } from './operator.js';
import { attachCandidate, attachConnection } from '../multiclient.js';

const RESERVED = 'Nickname is reserved by a different account';

// PASS <password>: the server password; with none configured, `PASS <account>:<password>` (or a
// bare password for the account named like the nick) logs in when registration completes.
export function PASS({ session, params }: CommandContext): void {
  if (session.registered) throw numericError(N.ERR_ALREADYREGISTERED, 'You may not reregister');
  session.password = params[0]!;
}

// NICK <nickname>
export function NICK({ server, session, params }: CommandContext): void | Promise<void> {
  const nick = params[0] ?? '';
  const limit = server.config.limits.nick_length;
  if (nick === '') throw numericError(N.ERR_NONICKNAMEGIVEN, 'No nickname given');
  if (!isValidNick(nick, limit) || isServiceName(nick)) throw numericError(N.ERR_ERRONEUSNICKNAME, nick, `Erroneous nickname: use ${NICK_RULES}`);
  if (nick === session.nick) return;
  const key = foldCase(nick);
  // Before registration the nick is only held; whether it may be granted is decided when
  // registration completes, after SASL or PASS had their chance. The nick of a logged-in user
  // here is held too: logged in to that account, this connection joins the user (multiclient.ts).
  if (!session.registered) {
    const user = attachCandidate(server, session, key);
    if (user) {
      holdToAttach(server, session, user, nick);
      return tryCompleteRegistration(server, session);
    }
    assertFree(server, session, key, nick);
    session.attachTo = null;
    changeNick(server, session, nick);
    return tryCompleteRegistration(server, session);
  }
  assertFree(server, session, key, nick);
  const reserved = key === session.nickKey ? false : server.nickProtection.isReserved(session, key);
  if (reserved === false) return claimNick(server, session, nick);
  if (reserved === true) return refuseReserved(server, session, nick);
  return reserved.then((isReserved) => {
    if (session.state === 'closing' || session.nick === nick) return;
    if (isReserved) return refuseReserved(server, session, nick);
    assertFree(server, session, key, nick); // someone may have taken it during the lookup
    return claimNick(server, session, nick);
  });
}

/**
 * A registered user's new nick, claimed network-wide (network-users.ts: one atomic rename, so
 * of two users on two nodes racing for it exactly one gets it), then changed here. 433 when
 * someone anywhere holds it.
 */
export async function claimNick(server: Server, session: Session, nick: string): Promise<void> {
  const result = await server.users.rename(session, nick);
  if (session.state === 'closing') return;
  if (!result.ok) {
    if (result.reason === 'in-use') throw numericError(N.ERR_NICKNAMEINUSE, nick, 'Nickname is already in use');
    throw new Error(`nick change refused by the shared state: ${result.reason}`);
  }
  // A client still registering here may have picked the nick meanwhile; the claim is ours.
  const holder = server.nicks.get(foldCase(nick));
  if (holder && holder !== session) takeBackHold(server, holder, nick, 'Nickname is already in use');
  changeNick(server, session, nick);
}

/** A free guest nick, claimed network-wide, for someone who held a registered nick without logging in. */
export async function claimGuestNick(server: Server, session: Session): Promise<void> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const nick = guestNick(server);
    const result = await server.users.rename(session, nick);
    if (session.state === 'closing') return;
    if (result.ok) return changeNick(server, session, nick);
  }
  server.quit(session, 'No free guest nick for a protected nick');
}

/** Before registration: `session` loses the nick it held here and is told with 433. */
function takeBackHold(server: Server, session: Session, nick: string, text: string): void {
  if (server.nicks.get(session.nickKey) === session) server.nicks.delete(session.nickKey);
  session.nick = '*';
  session.nickKey = '';
  session.numeric(N.ERR_NICKNAMEINUSE, nick, text);
}

/**
 * 433 with Ergo's text. Some clients (irssi) show their own text for 433 ("Nick ... is already
 * in use"), so a NickServ notice says what to do.
 */
function refuseReserved(server: Server, session: Session, nick: string): void {
  session.numeric(N.ERR_NICKNAMEINUSE, nick, RESERVED);
  session.sendMessage({
    source: `NickServ!NickServ@services.${server.name}`,
    command: 'NOTICE',
    params: [session.nick, `${nick} is a registered account: log in to use it (SASL, PASS ${nick}:<password>, or /msg NickServ IDENTIFY ${nick} <password>).`],
  });
}

function assertFree(server: Server, session: Session, key: string, nick: string): void {
  const holder = server.nicks.get(key);
  if (holder && holder !== session) throw numericError(N.ERR_NICKNAMEINUSE, nick, 'Nickname is already in use');
}

/** Before registration: the nick `user` holds, asked for to join that user (multiclient.ts); not in the nick table. */
function holdToAttach(server: Server, session: Session, user: Session, nick: string): void {
  if (session.nickKey && server.nicks.get(session.nickKey) === session) server.nicks.delete(session.nickKey);
  session.nick = nick;
  session.nickKey = user.nickKey;
  session.attachTo = user;
}

/** Take a nick that is known to be free and valid; tell everyone who shares a room. */
export function changeNick(server: Server, session: Session, nick: string): void {
  if (session.registered) {
    const change = server.event(session, 'NICK', [nick]);
    for (const member of server.audienceOf(session)) member.deliver(change);
    session.eachConnection(() => session.send(change));
    for (const connection of session.attached ?? []) connection.nick = nick;
    server.rememberNick(session);
  }
  if (session.nickKey) server.nicks.delete(session.nickKey);
  session.nick = nick;
  session.nickKey = foldCase(nick);
  server.nicks.set(session.nickKey, session);
  if (session.registered) void protectNick(server, session);
}

/**
 * Timeout-mode nick protection: whoever holds a registered nick without being logged in to that
 * account is warned, and renamed once accounts.nick_protection_seconds have passed
 * (Server.sweep). In strict mode such a nick is never granted (core/nick-protection.ts).
 */
export async function protectNick(server: Server, session: Session): Promise<void> {
  const key = session.nickKey;
  session.protectedNick = null;
  if (session.accountKey === key || server.nickProtection.mode !== 'timeout') return;
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

/**
 * The session's account changed (SASL re-authentication) while it holds a nick: a nick
 * registered to another account is given up at once in strict mode (as it would never have
 * been granted), and warned about with the usual delay in timeout mode.
 */
export async function recheckNick(server: Server, session: Session): Promise<void> {
  if (server.nickProtection.mode !== 'strict') return protectNick(server, session);
  const key = session.nickKey;
  if (!(await server.nickProtection.isReserved(session, key)) || session.nickKey !== key || session.state === 'closing') return;
  session.sendMessage({
    source: `NickServ!NickServ@services.${server.name}`,
    command: 'NOTICE',
    params: [session.nick, 'This nick is registered to another account; your nick is being changed.'],
  });
  await claimGuestNick(server, session);
}

/** A free guest nick for someone who held a registered nick without logging in. */
export function guestNick(server: Server): string {
  for (;;) {
    const nick = `Guest${Math.floor(10000 + Math.random() * 90000)}`;
    if (!server.nicks.has(foldCase(nick))) return nick;
  }
}

// USER <username> <mode> <unused> :<realname>
export function USER({ server, session, params }: CommandContext): void | Promise<void> {
  if (session.registered) throw numericError(N.ERR_ALREADYREGISTERED, 'You may not reregister');
  const [username, , , realname] = params as [string, string, string, string];
  // An empty username or realname (`USER name * * :`) counts as missing (modern.ircdocs.horse USER).
  if (username === '' || realname === '') throw numericError(N.ERR_NEEDMOREPARAMS, 'USER', 'Not enough parameters');
  // The username is shown in prefixes: keep it short and free of separators.
  const clean = username.replace(/[^A-Za-z0-9._-]/g, '').slice(0, 18);
  session.user = `~${clean || 'user'}`.slice(0, 18);
  session.realname = realname.slice(0, server.config.limits.realname_length);
  return tryCompleteRegistration(server, session);
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
  server.disconnect(session, reason.slice(0, server.config.limits.away_length));
}

/**
 * Registration ends once NICK and USER are in, CAP negotiation (if any) is over, and the nick
 * may be granted: a registered nick only to a session logged in to it (strict nick protection,
 * as Ergo does it in tryRegister; a refusal lets the client send another NICK). A PASS login
 * and the account lookup are async: the caller returns the promise, so the session's later
 * lines wait (input-gate.ts), and `session.registering` keeps a second attempt out meanwhile.
 */
export function tryCompleteRegistration(server: Server, session: Session): void | Promise<void> {
  if (!readyToRegister(session)) return;
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
  const passLogin = required === null && session.password !== null && !session.account;
  if (session.attachTo !== null) return joinUser(server, session, passLogin);
  const reserved = passLogin ? null : server.nickProtection.isReserved(session, session.nickKey);
  if (reserved === false) return finishRegistration(server, session);
  if (reserved === true) return refuseNickAtRegistration(server, session);
  return completeAfterChecks(server, session, passLogin);
}

function readyToRegister(session: Session): boolean {
  return session.state === 'connecting' && !session.registering && !session.capNegotiating && session.nickKey !== '' && session.user !== '';
}

async function completeAfterChecks(server: Server, session: Session, passLogin: boolean): Promise<void> {
  session.registering = true;
  try {
    if (passLogin) await loginWithPass(server, session);
    // Checked again after every await: the session may have closed, or its nick changed.
    for (;;) {
      if (session.state !== 'connecting' || session.nickKey === '') return;
      const key = session.nickKey;
      const reserved = await server.nickProtection.isReserved(session, key);
      if (session.state !== 'connecting') return;
      if (session.nickKey !== key) continue;
      if (server.nicks.get(key) !== session) return;
      // Awaited here, so `registering` stays set until the nick is claimed.
      return reserved ? refuseNickAtRegistration(server, session) : await finishRegistration(server, session);
    }
  } finally {
    session.registering = false;
  }
}

/** Registration of a connection that asked for a logged-in user's nick: it joins that user, or gets 433. */
async function joinUser(server: Server, session: Session, passLogin: boolean): Promise<void> {
  session.registering = true;
  try {
    if (passLogin) await loginWithPass(server, session);
    if (session.state !== 'connecting' || session.attachTo === null) return;
    await attachConnection(server, session);
  } finally {
    session.registering = false;
  }
}

/**
 * The nick is held on another node: by a user of this connection's account, the connection
 * joins it there (relay.ts; true). False when it may not, or the lookup failed.
 */
async function joinRemoteUser(server: Server, session: Session): Promise<boolean> {
  if (!server.config.accounts.multiclient || session.accountKey === null) return false;
  const record = await server.users.remoteByNick(session.nick).catch(() => null);
  if (session.state !== 'connecting') return true;
  return record !== null && server.relays.offer(session, record);
}

/**
 * `PASS <account>:<password>` (Ergo's login-via-pass-command), or a bare `PASS <password>` for
 * the account named like the nick (Ergo has only the first form; a bare password for an
 * unregistered nick is ignored). A wrong password is told with 464 and registration goes on
 * under the nick rules: a registered nick is then refused with 433, another may be chosen.
 * (Ergo says nothing about a failed PASS login when there is no server password.)
 */
async function loginWithPass(server: Server, session: Session): Promise<void> {
  const given = session.password!;
  session.password = null;
  const colon = given.indexOf(':');
  const name = colon === -1 ? session.nick : given.slice(0, colon);
  const password = colon === -1 ? given : given.slice(colon + 1);
  if (name === '' || password === '') return;
  if (colon === -1 && !(await server.accounts.get(name).catch(() => null))) return;
  const result = await server.accounts.checkPassword(name, password, session.host);
  if (session.state !== 'connecting' || session.account) return;
  if (!('reason' in result)) {
    server.logins.succeeded(session, 'pass', result.name);
    server.accounts.login(server, session, result);
    return;
  }
  server.logins.failed(session, 'pass', name, result);
  const wait = result.reason === 'throttled' ? `: too many failed attempts, try again in ${Math.ceil(result.retryAfterMs / 1000)} seconds` : '';
  session.numeric(N.ERR_PASSWDMISMATCH, `Password incorrect${wait}`);
}

/** Before registration: the nick is not granted; the client may send another NICK or log in. */
function refuseNickAtRegistration(server: Server, session: Session): void {
  const nick = session.nick;
  if (server.nicks.get(session.nickKey) === session) server.nicks.delete(session.nickKey);
  session.nick = '*';
  session.nickKey = '';
  refuseReserved(server, session, nick);
}

/**
 * The nick is claimed network-wide (one atomic step: of clients racing for it on any nodes,
 * exactly one wins); the loser gets 433 and may send another NICK. Then the session is registered.
 */
async function finishRegistration(server: Server, session: Session): Promise<void> {
  const wasRegistering = session.registering;
  session.registering = true;
  let claimed: boolean;
  try {
    claimed = await server.users.claim(session);
  } finally {
    session.registering = wasRegistering;
  }
  if (session.state !== 'connecting') return;
  if (!claimed) {
    if (await joinRemoteUser(server, session)) return;
    return takeBackHold(server, session, session.nick, 'Nickname is already in use');
  }
  session.state = 'registered';
  session.counted = true;
  server.counts.registered++;
  server.counts.peak = Math.max(server.counts.peak, server.counts.registered);
  session.password = null;
  server.logger.debug('registered', { session: session.id, nick: session.nick, address: session.host });
  await sendWelcome(server, session);
  void protectNick(server, session);
}

function passwordMatches(given: string | null, required: string): boolean {
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(required);
  return a.length === b.length && timingSafeEqual(a, b);
}
