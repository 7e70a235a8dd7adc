import { foldCase, hasWildcard, isRoomName, matchGlob } from '../../protocol/index.js';
import * as N from '../../protocol/numerics.js';
import { failError } from '../errors.js';
import type { Room } from '../room.js';
import type { Server } from '../server.js';
import type { Session } from '../session.js';
import type { CommandContext } from './context.js';
import type { UserRecord } from '../../cluster/state.js';
import { sendLusers, sendMotd } from './welcome.js';
import { parseWhox, sendWhoxReply, whoFlags } from './whox.js';

// AWAY [<text>]
export function AWAY({ server, session, params }: CommandContext): void {
  const text = params[0] ? params[0].slice(0, server.config.limits.away_length) : null;
  session.away = text;
  server.users.update(session, { away: text });
  if (text === null) session.numeric(N.RPL_UNAWAY, 'You are no longer marked as being away');
  else session.numeric(N.RPL_NOWAWAY, 'You have been marked as being away');
  const out = server.event(session, 'AWAY', text === null ? [] : [text]);
  for (const member of server.audienceOf(session)) if (member.has('away-notify')) member.deliver(out);
}

// SETNAME <realname>   (IRCv3 setname)
export function SETNAME({ server, session, params }: CommandContext): void {
  const realname = params[0]!;
  if (realname === '' || realname.length > server.config.limits.realname_length) {
    throw failError('SETNAME', 'INVALID_REALNAME', 'Realname is not valid or too long');
  }
  session.realname = realname;
  const out = server.event(session, 'SETNAME', [realname]);
  for (const member of server.audienceOf(session)) if (member.has('setname')) member.deliver(out);
  if (session.has('setname')) session.send(out);
}

// LUSERS
export function LUSERS({ server, session }: CommandContext): void {
  sendLusers(server, session);
}

// MOTD
export function MOTD({ server, session }: CommandContext): void {
  sendMotd(server, session);
}

// WHO <room | nick | mask> [%<fields>[,<token>]]   (WHOX: whox.ts)
export function WHO({ server, session, params }: CommandContext): void {
  const mask = params[0] ?? '*';
  const whox = parseWhox(params[1]);
  const reply = (user: Session, room: Room | null) =>
    whox ? sendWhoxReply(server, session, user, room, whox) : sendPlainWhoReply(server, session, user, room);
  const room = isRoomName(mask) ? server.findRoom(mask) : undefined;
  if (room) {
    if (!room.flags.has('s') || room.members.has(session)) {
      for (const member of room.members.keys()) reply(member, room);
    }
  } else if (!isRoomName(mask)) {
    const exact = server.findNick(mask);
    if (exact) reply(exact, null);
    else if (hasWildcard(mask)) {
      const folded = foldCase(mask);
      const shared = server.audienceOf(session);
      // A mask search can list the whole server: cut at limits.who_max_results.
      let left = server.config.limits.who_max_results;
      for (const user of server.nicks.values()) {
        if (!user.registered || (user.invisible && user !== session && !shared.has(user))) continue;
        if (![user.nick, user.user, user.host, user.realname].some((field) => matchGlob(folded, foldCase(field)))) continue;
        if (left-- === 0) {
          session.numeric(N.ERR_TOOMANYMATCHES, 'WHO', 'Output too large, truncated');
          break;
        }
        reply(user, null);
      }
    }
  }
  session.numeric(N.RPL_ENDOFWHO, mask, 'End of WHO list');
}

function sendPlainWhoReply(server: Server, asker: Session, user: Session, room: Room | null): void {
  asker.numeric(N.RPL_WHOREPLY, room?.name ?? '*', user.user, user.host, server.name, user.nick, whoFlags(user, room, asker), `0 ${user.realname}`);
}

// WHOIS [<server>] <nick>
export function WHOIS({ server, session, params }: CommandContext): void | Promise<void> {
  const nick = params[params.length - 1]!.split(',')[0]!;
  const user = server.findUser(nick);
  if (user instanceof Promise) return user.then((record) => whoisRemote(server, session, nick, record));
  whoisLocal(server, session, user);
}

/** WHOIS of a user on another node, from its shared record (the network shows as one server). */
function whoisRemote(server: Server, session: Session, nick: string, user: UserRecord | null): void {
  if (!user) {
    session.numeric(N.ERR_NOSUCHNICK, nick, 'No such nick/channel');
    session.numeric(N.RPL_ENDOFWHOIS, nick, 'End of /WHOIS list');
    return;
  }
  session.numeric(N.RPL_WHOISUSER, user.nick, user.user, user.host, '*', user.realname);
  session.numeric(N.RPL_WHOISSERVER, user.nick, server.name, server.config.server.network);
  if (user.away !== null) session.numeric(N.RPL_AWAY, user.nick, user.away);
  if (user.account) session.numeric(N.RPL_WHOISACCOUNT, user.nick, user.account, 'is logged in as');
  session.numeric(N.RPL_ENDOFWHOIS, user.nick, 'End of /WHOIS list');
}

function whoisLocal(server: Server, session: Session, user: Session): void {
  session.numeric(N.RPL_WHOISUSER, user.nick, user.user, user.host, '*', user.realname);
  const rooms = [...user.rooms]
    .filter((room) => !room.flags.has('s') || room.members.has(session))
    .map((room) => room.prefixOf(user, session.has('multi-prefix')) + room.name);
  if (rooms.length > 0) session.numeric(N.RPL_WHOISCHANNELS, user.nick, rooms.join(' '));
  session.numeric(N.RPL_WHOISSERVER, user.nick, server.name, server.config.server.network);
  if (user.oper) session.numeric(N.RPL_WHOISOPERATOR, user.nick, 'is an IRC operator');
  if (user.away !== null) session.numeric(N.RPL_AWAY, user.nick, user.away);
  if (user.account) session.numeric(N.RPL_WHOISACCOUNT, user.nick, user.account, 'is logged in as');
  const idle = Math.floor((Date.now() - user.lastSpoke) / 1000);
  session.numeric(N.RPL_WHOISIDLE, user.nick, String(idle), String(Math.floor(user.connectedAt / 1000)), 'seconds idle, signon time');
  session.numeric(N.RPL_ENDOFWHOIS, user.nick, 'End of /WHOIS list');
}

