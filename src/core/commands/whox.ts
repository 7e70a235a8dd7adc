import * as N from '../../protocol/numerics.js';
import type { Server } from '../server.js';
import type { Session } from '../session.js';
import { BOT_MODE } from '../network-users.js';

/**
 * WHOX (ircv3.net/specs/extensions/whox): `WHO <mask> %<fields>[,<token>]` asks for chosen
 * fields, answered with RPL_WHOSPCRPL (354) instead of RPL_WHOREPLY. irssi and WeeChat send it
 * on every join (to learn accounts and away states), so a server without it costs them a
 * second round of lookups.
 *
 * Fields are always sent in one order, whatever order they were asked in: the standard ones
 * plus ircu's `d` (hop count) and `o` (op level), which clients also ask for; other letters are
 * ignored, as the spec says.
 */
const FIELD_ORDER = 'tcuihsnfdlaor';

export interface WhoxRequest {
  /** The fields asked for, in FIELD_ORDER. */
  fields: string;
  /** 1-3 digits, echoed back for `t`; '0' when the client gave none or something else. */
  token: string;
}

/** The request in WHO's second parameter, or null for a plain WHO. Letters before '%' (flags some servers take) are ignored. */
export function parseWhox(param: string | undefined): WhoxRequest | null {
  const percent = param?.indexOf('%') ?? -1;
  if (param === undefined || percent === -1) return null;
  const [asked = '', token = ''] = param.slice(percent + 1).split(',', 2);
  const fields = [...FIELD_ORDER].filter((f) => asked.includes(f)).join('');
  return { fields, token: /^\d{1,3}$/.test(token) ? token : '0' };
}

/**
 * One user as WHO shows them: a session of this node or a user on another node (from its shared
 * record, or from a room's copy or snapshot with the record's modes). What another node's user
 * lacks here is given as the spec allows: idle time unknown (null, shown as 0).
 */
export interface WhoEntry {
  nick: string;
  user: string;
  host: string;
  realname: string;
  account: string | null;
  away: string | null;
  oper: boolean;
  /** User mode +B: the `B` flag (bot-mode). */
  bot: boolean;
  /** The room shown (the one asked about, or for WHOX one the asker can see), null for none. */
  room: string | null;
  /** The user's prefix in that room: `@`, `+`, or with multi-prefix both. */
  prefix: string;
  /** Seconds since the user last spoke, null when not known on this node. */
  idle: number | null;
}

/** WHO's flags: H here or G gone, `*` for an IRC operator, then the prefix in the room. */
export function flagsOf(entry: WhoEntry): string {
  return (entry.away === null ? 'H' : 'G') + (entry.oper ? '*' : '') + entry.prefix + (entry.bot ? BOT_MODE : '');
}

/** RPL_WHOREPLY (352); hop count 0: the network shows as one server. */
export function sendPlainWhoReply(server: Server, asker: Session, entry: WhoEntry): void {
  asker.numeric(N.RPL_WHOREPLY, entry.room ?? '*', entry.user, entry.host, server.name, entry.nick, flagsOf(entry), `0 ${entry.realname}`);
}

/** One RPL_WHOSPCRPL (354) with the fields asked for. */
export function sendWhoxEntry(server: Server, asker: Session, entry: WhoEntry, request: WhoxRequest): void {
  const values: string[] = [];
  for (const field of request.fields) {
    switch (field) {
      case 't': values.push(request.token); break;
      case 'c': values.push(entry.room ?? '*'); break;
      case 'u': values.push(entry.user); break;
      // The host is the address already (no cloaks or reverse DNS), so it hides nothing more.
      case 'i': values.push(entry.host); break;
      case 'h': values.push(entry.host); break;
      case 's': values.push(server.name); break;
      case 'n': values.push(entry.nick); break;
      case 'f': values.push(flagsOf(entry)); break;
      case 'd': values.push('0'); break; // one network, one hop
      case 'l': values.push(String(Math.max(0, entry.idle ?? 0))); break;
      case 'a': values.push(entry.account ?? '0'); break;
      case 'o': values.push('n/a'); break; // no op levels here
      case 'r': values.push(entry.realname); break;
    }
  }
  asker.numeric(N.RPL_WHOSPCRPL, ...values);
}
