import * as N from '../../protocol/numerics.js';
import type { UserRecord } from '../../cluster/state.js';
import type { Server } from '../server.js';
import type { Session } from '../session.js';
import type { CommandContext } from './context.js';
import { prefixFor } from './who.js';
import { BOT_MODE } from '../network-users.js';

// WHOIS [<server>] <nick>   (TARGMAX WHOIS:1: only the first of a comma list is looked up)
// A user of any node: this node's sessions answer at once, others from the shared state (the
// network shows as one server), with 317 from the user's own node: only it knows when its
// user last spoke (remote-users.ts `lastSpoke`; without an answer in time, no 317).
export function WHOIS({ server, session, params }: CommandContext): void | Promise<void> {
  const nick = params[params.length - 1]!.split(',')[0]!;
  const user = server.findUser(nick);
  if (user instanceof Promise) return user.then((record) => whoisRemote(server, session, nick, record));
  whoisLocal(server, session, user);
}

/** WHOIS of a user on another node, from its shared record and its rooms (read in one step). */
async function whoisRemote(server: Server, session: Session, nick: string, user: UserRecord | null): Promise<void> {
  if (!user) {
    session.numeric(N.ERR_NOSUCHNICK, nick, 'No such nick/channel');
    session.numeric(N.RPL_ENDOFWHOIS, nick, 'End of /WHOIS list');
    return;
  }
  const [memberships, spoke] = await Promise.all([server.cluster.state.memberships(user.uid), server.remoteUsers.lastSpoke(user)]);
  const multi = session.has('multi-prefix');
  // A secret room is shown only to its members, who have a copy of it on their node.
  const rooms = memberships
    .filter((room) => !room.modes.includes('s') || server.findRoom(room.name)?.members.has(session))
    .map((room) => prefixFor(room.flags, multi) + room.name);
  session.numeric(N.RPL_WHOISUSER, user.nick, user.user, user.host, '*', user.realname);
  sendWhoisChannels(server, session, user.nick, rooms);
  session.numeric(N.RPL_WHOISSERVER, user.nick, server.name, server.config.server.network);
  if (user.modes.includes('o')) session.numeric(N.RPL_WHOISOPERATOR, user.nick, 'is an IRC operator');
  if (user.modes.includes(BOT_MODE)) session.numeric(N.RPL_WHOISBOT, user.nick, `is a bot on ${server.config.server.network}`);
  if (user.away !== null) session.numeric(N.RPL_AWAY, user.nick, user.away);
  if (user.account) session.numeric(N.RPL_WHOISACCOUNT, user.nick, user.account, 'is logged in as');
  if (user.secure) session.numeric(N.RPL_WHOISSECURE, user.nick, 'is using a secure connection');
  if (spoke !== null) sendWhoisIdle(session, user.nick, spoke, user.since);
  session.numeric(N.RPL_ENDOFWHOIS, user.nick, 'End of /WHOIS list');
}

function whoisLocal(server: Server, session: Session, user: Session): void {
  session.numeric(N.RPL_WHOISUSER, user.nick, user.user, user.host, '*', user.realname);
  const rooms = [...user.rooms]
    .filter((room) => !room.flags.has('s') || room.members.has(session))
    .map((room) => room.prefixOf(user, session.has('multi-prefix')) + room.name);
  sendWhoisChannels(server, session, user.nick, rooms);
  session.numeric(N.RPL_WHOISSERVER, user.nick, server.name, server.config.server.network);
  if (user.oper) session.numeric(N.RPL_WHOISOPERATOR, user.nick, 'is an IRC operator');
  if (user.bot) session.numeric(N.RPL_WHOISBOT, user.nick, `is a bot on ${server.config.server.network}`);
  if (user.away !== null) session.numeric(N.RPL_AWAY, user.nick, user.away);
  if (user.account) session.numeric(N.RPL_WHOISACCOUNT, user.nick, user.account, 'is logged in as');
  if (user.conn.secure) session.numeric(N.RPL_WHOISSECURE, user.nick, 'is using a secure connection');
  sendWhoisIdle(session, user.nick, user.lastSpoke, user.connectedAt);
  session.numeric(N.RPL_ENDOFWHOIS, user.nick, 'End of /WHOIS list');
}

/** RPL_WHOISIDLE from when the user last spoke and connected (ms since the epoch). */
function sendWhoisIdle(session: Session, nick: string, spoke: number, signon: number): void {
  // Clocks of two nodes may differ a little: never a negative idle time.
  const idle = Math.max(0, Math.floor((Date.now() - spoke) / 1000));
  session.numeric(N.RPL_WHOISIDLE, nick, String(idle), String(Math.floor(signon / 1000)), 'seconds idle, signon time');
}

/** RPL_WHOISCHANNELS lines, as many as the rooms need, each under 512 bytes (none without rooms). */
function sendWhoisChannels(server: Server, session: Session, nick: string, rooms: string[]): void {
  // Room for ":server 319 <asker> <nick> :" and CRLF.
  const budget = 500 - Buffer.byteLength(server.name) - Buffer.byteLength(session.nick) - Buffer.byteLength(nick) - 10;
  let line = '';
  for (const room of rooms) {
    if (line !== '' && Buffer.byteLength(line) + 1 + Buffer.byteLength(room) > budget) {
      session.numeric(N.RPL_WHOISCHANNELS, nick, line);
      line = room;
    } else {
      line = line === '' ? room : `${line} ${room}`;
    }
  }
  if (line !== '') session.numeric(N.RPL_WHOISCHANNELS, nick, line);
}
