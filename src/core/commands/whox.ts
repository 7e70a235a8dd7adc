import * as N from '../../protocol/numerics.js';
import type { Room } from '../room.js';
import type { Server } from '../server.js';
import type { Session } from '../session.js';

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

/** WHO's flags: H here or G gone, `*` for an IRC operator, then the prefix in the room. */
export function whoFlags(user: Session, room: Room | null, asker: Session): string {
  return (user.away === null ? 'H' : 'G') + (user.oper ? '*' : '') + (room ? room.prefixOf(user, asker.has('multi-prefix')) : '');
}

/** One RPL_WHOSPCRPL for `user`; `room` is the room asked about, else one both can see. */
export function sendWhoxReply(server: Server, asker: Session, user: Session, room: Room | null, request: WhoxRequest): void {
  const shown = room ?? visibleRoomOf(user, asker);
  const values: string[] = [];
  for (const field of request.fields) {
    switch (field) {
      case 't': values.push(request.token); break;
      case 'c': values.push(shown?.name ?? '*'); break;
      case 'u': values.push(user.user); break;
      // The host is the address already (no cloaks or reverse DNS), so it hides nothing more.
      case 'i': values.push(user.host); break;
      case 'h': values.push(user.host); break;
      case 's': values.push(server.name); break;
      case 'n': values.push(user.nick); break;
      case 'f': values.push(whoFlags(user, shown, asker)); break;
      case 'd': values.push('0'); break; // one network, one hop
      case 'l': values.push(String(Math.max(0, Math.floor((Date.now() - user.lastSpoke) / 1000)))); break;
      case 'a': values.push(user.account ?? '0'); break;
      case 'o': values.push('n/a'); break; // no op levels here
      case 'r': values.push(user.realname); break;
    }
  }
  asker.numeric(N.RPL_WHOSPCRPL, ...values);
}

/** A room of `user` that `asker` may see (not secret, or shared), for the `c` field. */
function visibleRoomOf(user: Session, asker: Session): Room | null {
  for (const room of user.rooms) if (!room.flags.has('s') || room.members.has(asker)) return room;
  return null;
}
