/** Stable colours for nicks: the same person has the same colour everywhere, every time. */
import { foldName } from '../../client/isupport.js';

// The terminal's own colours (they follow the user's theme); no black, white or greys.
const NICK_PALETTE = ['31', '32', '33', '34', '35', '36', '91', '92', '93', '94', '95', '96'];

/** SGR colour for a nick: FNV-1a of the folded nick, so case does not change it. */
export function nickColour(nick: string): string {
  let hash = 0x811c9dc5;
  for (const ch of foldName(nick, 'ascii')) {
    hash ^= ch.codePointAt(0)!;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return NICK_PALETTE[hash % NICK_PALETTE.length]!;
}
