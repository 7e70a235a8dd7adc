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
 * in the second half of a piece, never inside a character. The space is dropped, or with
 * `keepSpaces` left at the end of the piece, so that the pieces join back exactly (multiline
 * concatenation, multiline.ts).
 */
export function splitText(text: string, maxBytes: number, keepSpaces = false): string[] {
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
    // A budget smaller than one character still makes progress.
    if (end === 0) end = rest.codePointAt(0)! > 0xffff ? 2 : 1;
    const space = rest.lastIndexOf(' ', keepSpaces ? end - 1 : end);
    if (space > end / 2) {
      pieces.push(rest.slice(0, keepSpaces ? space + 1 : space));
      rest = rest.slice(space + 1);
    } else {
      pieces.push(rest.slice(0, end));
      rest = rest.slice(end);
    }
  }
  if (rest !== '' || pieces.length === 0) pieces.push(rest);
  return pieces;
}
