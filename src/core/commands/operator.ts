import type { ChghostEvent } from '../../cluster/events.js';
import { changeHost, isValidHost } from '../host-change.js';
import * as N from '../../protocol/numerics.js';
import type { ServerBan } from '../../store/store.js';
import { DisconnectReason, failError, numericError } from '../errors.js';
import type { Server } from '../server.js';
import { ServerBans } from '../server-bans.js';
import type { Session } from '../session.js';
import type { CommandContext } from './context.js';

// Operator commands (the dispatch table marks them oper-only: ERR_NOPRIVILEGES for others).
// The syntax follows charybdis/solanum, which most operators know:
//   KLINE [<duration>] <user@host | nick> [:<reason>]     UNKLINE <user@host>
//   DLINE [<duration>] <ip | cidr | nick> [:<reason>]     UNDLINE <ip | cidr>
//   STATS k | d                                           KILL <nick> [:<reason>]
// A duration is `90s`, `30m`, `1h`, `7d`, `2w`, combinations (`1h30m`), or bare minutes
// (`60`); none, or `0`, means permanent.

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION = /^(?:\d+[smhdw])+$|^\d+$/;
/** Ten years: longer is "permanent" in all but name, and keeps the arithmetic safe. */
const MAX_DURATION_MS = 10 * 365 * 86_400_000;

/** Milliseconds, 0 for permanent; null if `text` is not a duration. */
export function parseDuration(text: string): number | null {
  if (!DURATION.test(text)) return null;
  if (/^\d+$/.test(text)) return Math.min(Number(text) * UNITS.m!, MAX_DURATION_MS);
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)([smhdw])/g)) total += Number(amount) * UNITS[unit!]!;
  return Math.min(total, MAX_DURATION_MS);
}

/** `1h30m`, `7d`, `permanent`. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return 'permanent';
  let rest = Math.max(0, Math.round(ms / 1000));
  let out = '';
  for (const [unit, size] of [['w', 604_800], ['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out || '0s';
}

// KILL <nick> [<reason>]
// A user of another node is killed by its node (remote-users.ts): the same ERROR and QUIT, and
// the same notice here once it is done; 401 if the user left before the kill arrived.
export function KILL({ server, session, params }: CommandContext): void | Promise<void> {
  const reason = (params[1] || 'No reason given').slice(0, server.config.limits.kick_length);
  const quitReason = `Killed (${session.oper} (${reason}))`;
  const target = server.findUser(params[0]!);
  if (!(target instanceof Promise)) {
    server.logger.info('KILL', { oper: session.oper, nick: target.nick, address: target.conn.remoteAddress, reason });
    notice(server, session, `Killed ${target.nick}: ${reason}`);
    server.quit(target, quitReason);
    return;
  }
  return target.then(async (record) => {
    if (!record) throw numericError(N.ERR_NOSUCHNICK, params[0]!, 'No such nick/channel');
    server.logger.info('KILL', { oper: session.oper, nick: record.nick, node: record.node, reason });
    const outcome = await server.remoteUsers.kill(record, session.oper!, quitReason);
    if (outcome === 'absent') throw numericError(N.ERR_NOSUCHNICK, params[0]!, 'No such nick/channel');
    if (outcome === 'timeout') throw failError('KILL', 'TEMPORARILY_UNAVAILABLE', record.nick, `No answer from ${record.nick}'s server; it may be down, and its users then leave on their own`);
    notice(server, session, `Killed ${record.nick}: ${reason}`);
  });
}

// CHGHOST <nick> <host>   (InspIRCd's and UnrealIRCd's operator command; IRCv3 chghost shows it)
// On the user's own node: here, or through that node's inbox (remote-users.ts applyChghost).
export function CHGHOST({ server, session, params }: CommandContext): void | Promise<void> {
  const [nick, host] = params as [string, string];
  if (!isValidHost(host)) throw failError('CHGHOST', 'INVALID_PARAMS', '*', 'Not a valid host: letters, digits, . - : / and at most 63 characters');
  const target = server.findUser(nick);
  if (!(target instanceof Promise)) {
    server.logger.info('CHGHOST', { oper: session.oper, nick: target.nick, host });
    changeHost(server, target, host);
    notice(server, session, `Changed the host of ${target.nick} to ${host}`);
    return;
  }
  return target.then(async (record) => {
    if (!record) throw numericError(N.ERR_NOSUCHNICK, nick, 'No such nick/channel');
    server.logger.info('CHGHOST', { oper: session.oper, nick: record.nick, node: record.node, host });
    const event: ChghostEvent = { v: 1, origin: server.cluster.nodes.id, kind: 'chghost', uid: record.uid, host, by: session.oper! };
    await server.cluster.bus.send(record.node, event);
    notice(server, session, `Changed the host of ${record.nick} to ${host}`);
  });
}

// KLINE [<duration>] <user@host | nick> [<reason>]
export async function KLINE(ctx: CommandContext): Promise<void> {
  const { server, session } = ctx;
  const { duration, target, reason } = banArguments(ctx);
  // A nick stands for `*@<their address>`: the user part is whatever the client sent in USER.
  const mask = ServerBans.klineMask(maskOf(server, target, (user) => `*@${user.conn.remoteAddress}`));
  if (!mask) throw failError('KLINE', 'INVALID_PARAMS', target, 'Not a user@host mask, or it would match everyone');
  const ban = await addBan(server, session, 'kline', mask, duration, reason);
  const hit = enforce(server, (user) => user.registered && server.bans.klineFor(user.user, user.conn.remoteAddress) !== null, kickReason(ban));
  announceBan(server, 'add', ban);
  notice(server, session, `Added K-line for [${mask}] (${formatDuration(duration || null)}): ${reason}; ${hit} disconnected`);
}

// DLINE [<duration>] <ip | cidr | nick> [<reason>]
export async function DLINE(ctx: CommandContext): Promise<void> {
  const { server, session } = ctx;
  const { duration, target, reason } = banArguments(ctx);
  const mask = ServerBans.dlineMask(maskOf(server, target, (user) => user.conn.remoteAddress));
  if (!mask) throw failError('DLINE', 'INVALID_PARAMS', target, 'Not an IP address or network (at most /8 for IPv4, /16 for IPv6)');
  const ban = await addBan(server, session, 'dline', mask, duration, reason);
  const hit = enforce(server, (user) => server.bans.dlineFor(user.conn.remoteAddress) !== null, kickReason(ban));
  announceBan(server, 'add', ban);
  notice(server, session, `Added D-line for [${mask}] (${formatDuration(duration || null)}): ${reason}; ${hit} disconnected`);
}

// UNKLINE <user@host>
export async function UNKLINE({ server, session, params }: CommandContext): Promise<void> {
  await removeBan(server, session, 'kline', ServerBans.klineMask(params[0]!) ?? params[0]!);
}

// UNDLINE <ip | cidr>
export async function UNDLINE({ server, session, params }: CommandContext): Promise<void> {
  await removeBan(server, session, 'dline', ServerBans.dlineMask(params[0]!) ?? params[0]!);
}

// STATS <query>: k (K-lines) and d (D-lines) for operators; u (uptime) for anyone.
export function STATS({ server, session, params }: CommandContext): void {
  const query = params[0]!.charAt(0);
  switch (query) {
    case 'k':
    case 'K':
    case 'd':
    case 'D': {
      if (!session.oper) throw numericError(N.ERR_NOPRIVILEGES, "Permission Denied- You're not an IRC operator");
      const now = server.bans.now();
      for (const ban of server.bans.list(query.toLowerCase() === 'k' ? 'kline' : 'dline')) {
        const text = ban.expiresAt === null ? ban.reason : `${ban.reason} (expires in ${formatDuration(ban.expiresAt - now)})`;
        if (ban.kind === 'kline') {
          const at = ban.mask.lastIndexOf('@');
          session.numeric(N.RPL_STATSKLINE, 'K', ban.mask.slice(at + 1), '*', ban.mask.slice(0, at), text);
        } else session.numeric(N.RPL_STATSDLINE, 'D', ban.mask, text);
      }
      break;
    }
    case 'u': {
      const seconds = Math.floor((Date.now() - server.createdAt.getTime()) / 1000);
      const [d, h, m, s] = [Math.floor(seconds / 86400), Math.floor(seconds / 3600) % 24, Math.floor(seconds / 60) % 60, seconds % 60];
      const pad = (n: number) => String(n).padStart(2, '0');
      session.numeric(N.RPL_STATSUPTIME, `Server Up ${d} days ${h}:${pad(m)}:${pad(s)}`);
      break;
    }
  }
  session.numeric(N.RPL_ENDOFSTATS, query || '*', 'End of /STATS report');
}

function banArguments({ server, params }: CommandContext): { duration: number; target: string; reason: string } {
  const timed = params.length >= 2 && parseDuration(params[0]!) !== null;
  const [target, reason] = timed ? [params[1]!, params[2]] : [params[0]!, params[1]];
  return {
    duration: timed ? parseDuration(params[0]!)! : 0,
    target,
    reason: (reason || 'No reason given').slice(0, server.config.limits.kick_length),
  };
}

/** A nick of someone connected stands for their mask; anything else is the mask itself. */
function maskOf(server: Server, target: string, of: (user: Session) => string): string {
  if (target.includes('@') || target.includes('.') || target.includes(':') || target.includes('/')) return target;
  const user = server.findNick(target);
  return user ? of(user) : target;
}

async function addBan(server: Server, session: Session, kind: ServerBan['kind'], mask: string, duration: number, reason: string): Promise<ServerBan> {
  const now = server.bans.now();
  const ban: ServerBan = { kind, mask, reason, setBy: session.oper!, setAt: now, expiresAt: duration > 0 ? now + duration : null };
  await server.bans.add(ban);
  server.logger.info(`${kind} added`, { oper: session.oper, mask, reason, expiresAt: ban.expiresAt });
  return ban;
}

async function removeBan(server: Server, session: Session, kind: ServerBan['kind'], mask: string): Promise<void> {
  const command = kind === 'kline' ? 'UNKLINE' : 'UNDLINE';
  const label = kind === 'kline' ? 'K-line' : 'D-line';
  const removed = await server.bans.remove(kind, mask);
  // Another node may still hold it in memory (its store write was ours to see): told either way.
  announceBan(server, 'remove', { kind, mask, reason: '', setBy: session.oper!, setAt: server.bans.now(), expiresAt: null });
  if (!removed) throw failError(command, 'NO_SUCH_BAN', mask, `No ${label} for ${mask}`);
  server.logger.info(`${kind} removed`, { oper: session.oper, mask });
  notice(server, session, `Removed ${label} for [${mask}]`);
}

/**
 * Disconnect everyone on this node a new ban matches (465 first, as at registration); returns
 * how many. The other nodes do the same with the same reason when the ban reaches them through
 * the network log (network-log.ts).
 */
export function enforce(server: Server, matches: (user: Session) => boolean, reason: string): number {
  let count = 0;
  for (const user of [...server.sessions]) {
    if (user.state === 'closing' || !matches(user)) continue;
    dropBanned(server, user, reason);
    count++;
  }
  return count;
}

/** One banned user: 465 if registered, then ERROR and the quit with `reason`. */
export function dropBanned(server: Server, user: Session, reason: string): void {
  if (user.registered) user.numeric(N.ERR_YOUREBANNEDCREEP, `You are banned from this server: ${reason}`);
  server.quit(user, reason);
}

/** Every node learns the change from the network log (the store, which they share, has it already). */
function announceBan(server: Server, action: 'add' | 'remove', ban: ServerBan): void {
  server.networkLog.publish({ v: 1, origin: server.cluster.nodes.id, kind: 'server-ban', action, ban: { ...ban }, reason: action === 'add' ? kickReason(ban) : '' });
}

export function kickReason(ban: ServerBan): string {
  return `${ban.kind === 'kline' ? DisconnectReason.KLined : DisconnectReason.DLined}: ${ban.reason}`;
}

function notice(server: Server, session: Session, text: string): void {
  session.sendMessage({ source: server.name, command: 'NOTICE', params: [session.nick, text] });
}
