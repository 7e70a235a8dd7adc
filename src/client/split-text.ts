/** Splitting text that is too long for one IRC line. */
import { utf8Length } from './base64.js';

/**
 * Bytes a PRIVMSG/NOTICE may carry as text: 512 minus CR LF and what the server adds when it
 * relays (`:nick!user@host PRIVMSG target :`). We do not know our user and host as others see
 * them, so assume the longest usual ones (18 and 64).
 */
export function textBudget(nick: string, target: string, command = 'PRIVMSG'): number {
  const relayed = `:${nick}!${'u'.repeat(18)}@${'h'.repeat(64)} ${command} ${target} :`;
  return Math.max(64, 510 - utf8Length(relayed));
}

/**
 * Cut `text` into pieces of at most `maxBytes` UTF-8 bytes, at the last space when there is one
 * in the second half of a piece, never inside a character.
 */
export function splitText(text: string, maxBytes: number): string[] {
  const pieces: string[] = [];
  let rest = text;
  while (utf8Length(rest) > maxBytes) {
    let end = 0;
    let bytes = 0;
    for (const ch of rest) {
      const size = utf8Length(ch);
      if (bytes + size > maxBytes) break;
      bytes += size;
      end += ch.length;
    }
    const space = rest.lastIndexOf(' ', end);
    const cut = space > end / 2 ? space : end;
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut === space ? cut + 1 : cut);
  }
  if (rest !== '' || pieces.length === 0) pieces.push(rest);
  return pieces;
}
