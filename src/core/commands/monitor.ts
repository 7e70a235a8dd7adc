import { isValidNick, uniqueNames, utf8Length } from '../../protocol/index.js';
import * as N from '../../protocol/numerics.js';
import type { UserRecord } from '../../cluster/state.js';
import { failError, numericError } from '../errors.js';
import type { Server } from '../server.js';
import type { Session } from '../session.js';
import type { CommandContext } from './context.js';

// MONITOR + <target>{,<target>} | - <target>{,<target>} | C | L | S
// (ircv3.net/specs/extensions/monitor). The index and the notifications are in core/monitor.ts;
// sign-ons, sign-offs and nick changes reach it from every node through the network log.
// Targets are nicks; what cannot be a nick (too long, a room name, bad characters) is skipped,
// as charybdis and ergo do, so it never takes a place in the list. At most
// limits.monitor_targets per client (ISUPPORT MONITOR=<limit>); past it, 734 names the targets
// not added and the rest of the command is dropped.
export function MONITOR({ server, session, params }: CommandContext): void | Promise<void> {
  const sub = params[0]!.toUpperCase();
  const { monitor } = server;
  switch (sub) {
    case '+': {
      const targets = targetsOf(server, params[1]);
      const added: string[] = [];
      for (let i = 0; i < targets.length; i++) {
        const result = monitor.add(session, targets[i]!);
        if (result === 'full') {
          listFull(server, session, targets.slice(i));
          break;
        }
        added.push(targets[i]!);
      }
      return tellStatus(server, session, added);
    }
    case '-':
      for (const target of targetsOf(server, params[1])) monitor.remove(session, target);
      return;
    case 'C':
      monitor.clear(session);
      return;
    case 'L':
      for (const chunk of chunks(server, session, N.RPL_MONLIST, monitor.list(session))) session.numeric(N.RPL_MONLIST, chunk);
      session.numeric(N.RPL_ENDOFMONLIST, 'End of MONITOR list');
      return;
    case 'S':
      return tellStatus(server, session, monitor.list(session));
    default:
      throw failError('MONITOR', 'INVALID_PARAMS', params[0]!, 'MONITOR takes +, -, C, L or S');
  }
}

/** The nicks of a `+` or `-`: each once (case-folded), invalid ones left out. 461 without any parameter. */
function targetsOf(server: Server, list: string | undefined): string[] {
  if (list === undefined || list === '') throw numericError(N.ERR_NEEDMOREPARAMS, 'MONITOR', 'Not enough parameters');
  const maxLength = server.config.limits.nick_length;
  return uniqueNames(list.split(',').filter((nick) => isValidNick(nick, maxLength)));
}

/**
 * 730 for the targets online anywhere on the network (as `nick!user@host`, spelled as they are
 * now), 731 for the others; this node's users answer at once, the others from the shared state,
 * looked up together. A target whose status an event told meanwhile (or that was removed) is
 * left out: the event's line is the newer truth.
 */
function tellStatus(server: Server, session: Session, targets: string[]): void | Promise<void> {
  if (targets.length === 0) return;
  const { monitor } = server;
  const changes = targets.map((nick) => monitor.changesOf(nick));
  const found = targets.map((nick) => server.findUser(nick));
  const reply = (users: (Session | UserRecord | null)[]) => {
    if (session.state === 'closing') return;
    const online: string[] = [];
    const offline: string[] = [];
    users.forEach((user, i) => {
      const nick = targets[i]!;
      if (monitor.changesOf(nick) !== changes[i] || !monitor.watches(session, nick)) return;
      monitor.tell(session, nick, user?.uid ?? null);
      if (user) online.push(`${user.nick}!${user.user}@${user.host}`);
      else offline.push(nick);
    });
    for (const chunk of chunks(server, session, N.RPL_MONONLINE, online)) session.numeric(N.RPL_MONONLINE, chunk);
    for (const chunk of chunks(server, session, N.RPL_MONOFFLINE, offline)) session.numeric(N.RPL_MONOFFLINE, chunk);
  };
  if (found.some((user) => user instanceof Promise)) return Promise.all(found).then(reply);
  reply(found as (Session | null)[]);
}

/** 734 <limit> <targets not added> :Monitor list is full. (the list cut to fit the line) */
function listFull(server: Server, session: Session, rejected: string[]): void {
  const limit = String(server.monitor.limit);
  const fixed = `:${server.name} ${N.ERR_MONLISTFULL} ${session.nick} ${limit}  :Monitor list is full.\r\n`;
  const [first] = chunks(server, session, N.ERR_MONLISTFULL, rejected, utf8Length(fixed));
  session.numeric(N.ERR_MONLISTFULL, limit, first ?? '*', 'Monitor list is full.');
}

/**
 * Comma lists that fit one numeric line each: `:<server> <code> <nick> :<list>` within 512
 * bytes (`used` counts what else the line carries).
 */
function chunks(server: Server, session: Session, code: string, items: string[], used?: number): string[] {
  const budget = 512 - (used ?? utf8Length(`:${server.name} ${code} ${session.nick} :\r\n`));
  const out: string[] = [];
  let current = '';
  for (const item of items) {
    const next = current === '' ? item : `${current},${item}`;
    if (utf8Length(next) > budget && current !== '') {
      out.push(current);
      current = item;
    } else current = next;
  }
  if (current !== '') out.push(current);
  return out;
}
