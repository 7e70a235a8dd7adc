/**
 * A room's mask lists: bans (+b), ban exceptions (+e, ISUPPORT EXCEPTS) and invite exceptions
 * (+I, INVEX), and how a user is matched against an entry. An entry is a `nick!user@host` glob
 * or an extended ban (ISUPPORT `EXTBAN=$,am`, Solanum's spelling):
 *
 * - `$a` matches anyone logged in to an account, `$a:<glob>` an account name;
 * - `$m:<mask>` (bans only) is a mute: whoever `<mask>` matches may join but not speak, unless
 *   voiced. `<mask>` is a host mask or an `$a` extban.
 *
 * An exception lifts every ban, mute or not. Matching is `matchGlob` (linear, no regex) on
 * strings case-folded once, when the entry is set and when the subject is built.
 */
import { foldCase, matchGlob, normalizeMask } from '../protocol/index.js';
import type { Session } from './session.js';

export type MaskListMode = 'b' | 'e' | 'I';
export const MASK_LIST_MODES: readonly MaskListMode[] = ['b', 'e', 'I'];
export const EXTBAN = '$,am';

export interface MaskEntry {
  mask: string;
  setBy: string;
  setAt: number;
  /** The mask case-folded once, for matching. */
  folded: string;
}

/** Who is matched: a user's `nick!user@host` and account, both case-folded. */
export interface MaskSubject {
  prefix: string;
  account: string | null;
}

export function subjectOf(session: Session): MaskSubject {
  return { prefix: foldCase(session.prefix), account: session.accountKey };
}

const MUTE = '$m:';

export function isMute(entry: MaskEntry): boolean {
  return entry.folded.startsWith(MUTE);
}

/** Does the (folded) entry match the subject? */
export function maskMatches(folded: string, subject: MaskSubject): boolean {
  if (!folded.startsWith('$')) return matchGlob(folded, subject.prefix);
  if (folded.startsWith(MUTE)) return maskMatches(folded.slice(MUTE.length), subject);
  if (folded === '$a') return subject.account !== null;
  if (folded.startsWith('$a:')) return subject.account !== null && matchGlob(folded.slice(3), subject.account);
  return false;
}

/**
 * A mask as a list keeps it: host masks completed (`nick` is `nick!*@*`), extbans checked.
 * Returns the reason instead when it is no valid entry of that list.
 */
export function listMask(mode: MaskListMode, raw: string): { mask: string } | { invalid: string } {
  if (!raw.startsWith('$')) return { mask: normalizeMask(raw) };
  if (raw.startsWith(MUTE)) {
    if (mode !== 'b') return { invalid: 'A mute ($m:) belongs in the ban list (+b)' };
    const inner = raw.slice(MUTE.length);
    if (inner === '') return { invalid: 'A mute names whom it mutes: $m:<mask>' };
    if (!inner.startsWith('$')) return { mask: MUTE + normalizeMask(inner) };
    const account = accountExtban(inner);
    return account ? { mask: MUTE + account } : { invalid: 'A mute holds a host mask or $a' };
  }
  const account = accountExtban(raw);
  return account ? { mask: account } : { invalid: `Unknown extban (EXTBAN=${EXTBAN}: $a, $a:<account>, $m:<mask>)` };
}

function accountExtban(raw: string): string | null {
  if (raw === '$a') return raw;
  return raw.startsWith('$a:') && raw.length > 3 ? raw : null;
}

/** Adds an entry unless the list has it (compared folded); false if it was there. */
export function addMask(list: MaskEntry[], mask: string, setBy: string, setAt = Math.floor(Date.now() / 1000)): boolean {
  const folded = foldCase(mask);
  if (list.some((entry) => entry.folded === folded)) return false;
  list.push({ mask, setBy, setAt, folded });
  return true;
}

export function removeMask(list: MaskEntry[], mask: string): boolean {
  const folded = foldCase(mask);
  const index = list.findIndex((entry) => entry.folded === folded);
  if (index === -1) return false;
  list.splice(index, 1);
  return true;
}
