/** Grammar of nicknames and room names, as advertised in ISUPPORT (CHANTYPES, NICKLEN, CHANNELLEN). */

export const CHANTYPES = '#';

// First character: a letter or one of []\`_^{|}; then also digits and '-'. This keeps nicks
// clear of prefixes (#, &, :, $), of the mask characters (*, ?, !, @) and of list separators.
const NICK_PATTERN = /^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]*$/;

/**
 * The nick grammar in words, for every message and form that refuses a name. ASCII only, on
 * purpose: CASEMAPPING=ascii keeps folding identical in every client, store and cluster node;
 * Unicode names would need PRECIS folding and confusable checks everywhere (docs/security.md).
 */
export const NICK_RULES = 'ASCII letters (a-z, A-Z), digits and - _ [ ] { } | ^ ` \\, not starting with a digit or -';

export function isValidNick(nick: string, maxLength: number): boolean {
  return nick.length > 0 && nick.length <= maxLength && NICK_PATTERN.test(nick);
}

// Room names: a channel prefix, then no space, comma, BEL, colon or other control characters.
// eslint-disable-next-line no-control-regex
const ROOM_FORBIDDEN = /[\x00-\x20,:\x7f]/;

export function isRoomName(name: string): boolean {
  return name.length > 0 && CHANTYPES.includes(name[0]!);
}

export function isValidRoomName(name: string, maxLength: number): boolean {
  return name.length > 1 && name.length <= maxLength && isRoomName(name) && !ROOM_FORBIDDEN.test(name);
}

/**
 * The longest ban or K-line mask accepted: a full `nick!user@host` (30 + 18 + an IPv6 address or
 * a long host name) fits with room to spare; anything longer is an attack on the matcher.
 */
export const MAX_MASK_LENGTH = 150;

/** Complete a partial ban mask the way other servers do: `nick` -> `nick!*@*`, `*@host` -> `*!*@host`. */
export function normalizeMask(mask: string): string {
  if (mask.includes('!')) {
    const [nick, rest] = [mask.slice(0, mask.indexOf('!')), mask.slice(mask.indexOf('!') + 1)];
    return `${nick || '*'}!${rest.includes('@') ? rest : `${rest || '*'}@*`}`;
  }
  if (mask.includes('@')) return `*!${mask}`;
  return `${mask}!*@*`;
}
