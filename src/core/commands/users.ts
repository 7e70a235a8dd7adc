import * as N from '../../protocol/numerics.js';
import { failError } from '../errors.js';
import type { CommandContext } from './context.js';
import { sendMotd } from './welcome.js';

// AWAY [<text>]
export function AWAY({ server, session, params }: CommandContext): void | Promise<void> {
  const text = params[0] ? params[0].slice(0, server.config.limits.away_length) : null;
  session.away = text;
  // Before registration (draft/pre-away) there is no record and no one to tell yet: the
  // record made at registration carries it (network-users.ts), and no 305/306 goes out.
  if (!session.registered) return;
  const written = server.users.update(session, { away: text });
  const out = server.event(session, 'AWAY', text === null ? [] : [text]);
  for (const member of server.audienceOf(session)) member.deliverIf('away-notify', out);
  // 305/306 once the shared record has it: from then on every node answers with it (301 on
  // INVITE or PRIVMSG, WHOIS), as one server would.
  return written.then(() => {
    if (text === null) session.numeric(N.RPL_UNAWAY, 'You are no longer marked as being away');
    else session.numeric(N.RPL_NOWAWAY, 'You have been marked as being away');
  });
}

// SETNAME <realname>   (IRCv3 setname)
export function SETNAME({ server, session, params }: CommandContext): void {
  const realname = params[0]!;
  if (realname === '' || realname.length > server.config.limits.realname_length) {
    throw failError('SETNAME', 'INVALID_REALNAME', 'Realname is not valid or too long');
  }
  session.realname = realname;
  // The shared record (WHOIS elsewhere) and other nodes' copies of its rooms follow (room-events.ts).
  server.users.update(session, { realname });
  const out = server.event(session, 'SETNAME', [realname]);
  for (const member of server.audienceOf(session)) member.deliverIf('setname', out);
  if (session.has('setname')) session.send(out);
}

// MOTD
export function MOTD({ server, session }: CommandContext): void {
  sendMotd(server, session);
}
