import { uniqueNames, utf8Length } from '../../protocol/index.js';
import * as N from '../../protocol/numerics.js';
import { numericError } from '../errors.js';
import type { Server } from '../server.js';
import type { Session } from '../session.js';
import type { UserRecord } from '../../cluster/state.js';
import type { WhowasEntry } from '../whowas.js';
import type { CommandContext } from './context.js';
import { requireThisServer } from './server-info.js';

/** USERHOST answers for at most five nicks (modern.ircdocs.horse USERHOST). */
const USERHOST_MAX = 5;

// WHOWAS <nick> [<count> [<target>]]   (modern.ircdocs.horse WHOWAS; the target is RFC 2812's)
// Newest first; a count that is not a positive number means all that are kept. Each entry is
// RPL_WHOWASUSER, RPL_WHOISACCOUNT if the user was logged in, and RPL_WHOISSERVER with the time
// the nick was given up (as InspIRCd and Solanum show it). Only the first of a comma list is
// looked up (TARGMAX WHOWAS:1).
export function WHOWAS({ server, session, params }: CommandContext): void | Promise<void> {
  const nick = (params[0] ?? '').split(',')[0]!;
  if (nick === '') throw numericError(N.ERR_NONICKNAMEGIVEN, 'No nickname given');
  requireThisServer(server, params[2]);
  const count = /^\d+$/.test(params[1] ?? '') ? Number(params[1]) : 0;
  const found = server.whowas.lookup(nick, count > 0 ? count : Infinity);
  if (found instanceof Promise) return found.then((entries) => sendWhowas(server, session, nick, entries));
  sendWhowas(server, session, nick, found);
}

function sendWhowas(server: Server, session: Session, nick: string, entries: readonly WhowasEntry[]): void {
  if (session.state === 'closing') return;
  if (entries.length === 0) session.numeric(N.ERR_WASNOSUCHNICK, nick, 'There was no such nickname');
  for (const entry of entries) {
    session.numeric(N.RPL_WHOWASUSER, entry.nick, entry.user, entry.host, '*', entry.realname);
    if (entry.account) session.numeric(N.RPL_WHOISACCOUNT, entry.nick, entry.account, 'was logged in as');
    session.numeric(N.RPL_WHOISSERVER, entry.nick, entry.server, new Date(entry.at).toUTCString());
  }
  session.numeric(N.RPL_ENDOFWHOWAS, nick, 'End of WHOWAS');
}

// USERHOST <nick>{ <nick>}   (at most five; unknown nicks are left out)
// Each reply is `nick[*]=<+|->user@host`: `*` for an IRC operator, `-` when away. Users of other
// nodes are read from the shared state (one lookup each, together); this node's need none.
export function USERHOST({ server, session, params }: CommandContext): void | Promise<void> {
  const found = params.slice(0, USERHOST_MAX).map((nick) => server.findUser(nick));
  const reply = (users: (Session | UserRecord | null)[]) => {
    const replies = users.flatMap((user) => {
      if (!user) return [];
      const oper = 'conn' in user ? user.oper !== null : user.modes.includes('o');
      return [`${user.nick}${oper ? '*' : ''}=${user.away === null ? '+' : '-'}${user.user}@${user.host}`];
    });
    session.numeric(N.RPL_USERHOST, replies.join(' '));
  };
  if (found.some((user) => user instanceof Promise)) return Promise.all(found).then(reply);
  reply(found as (Session | null)[]);
}

// ISON <nick>{ <nick>}   (RFC 2812; clients send the nicks as separate parameters or as one
// trailing parameter): the nicks that are online on any node, as they are spelled now, each once.
// The reply is one line, so it stops at what fits in 512 bytes; as many nicks as a line can ask
// about are looked up in the shared state together when not on this node.
export function ISON({ server, session, params }: CommandContext): void | Promise<void> {
  const asked = uniqueNames(params.flatMap((param) => param.split(' ')).filter((nick) => nick !== ''));
  const found = asked.map((nick) => server.findUser(nick));
  const reply = (users: ({ nick: string } | null)[]) => {
    // ":server 303 <client> :" and CRLF take the rest of the line.
    let room = 512 - utf8Length(server.name) - utf8Length(session.nick) - 10;
    const online: string[] = [];
    for (const user of users) {
      if (!user) continue;
      room -= utf8Length(user.nick) + 1;
      if (room < 0) break;
      online.push(user.nick);
    }
    session.numeric(N.RPL_ISON, online.join(' '));
  };
  if (found.some((user) => user instanceof Promise)) return Promise.all(found).then(reply);
  reply(found as (Session | null)[]);
}
