/**
 * Names from clients (nicks, room names, addresses) become parts of Redis keys and channels.
 * Every such part goes through `segment`: percent-encoding of everything outside a small safe
 * set is injective (two names never share a key), and it removes what means something to Redis
 * or to us: `:` (our separator), `{}` (Redis Cluster hash tags), `*?[]` (SCAN/PSUBSCRIBE
 * patterns), spaces and control characters. The memory implementation calls it too, so a name
 * refused by one is refused by the other.
 */

/** Longest name accepted (UTF-16 units); IRC nicks and room names are far shorter. */
export const MAX_NAME_LENGTH = 256;

/** A name the cluster refuses to store (empty, too long, or not valid Unicode). */
export class ClusterInputError extends RangeError {
  override readonly name = 'ClusterInputError';
}

const SAFE = /^[A-Za-z0-9#&._=~-]*$/;

/** The key segment for a (case-folded) name. Throws ClusterInputError. */
export function segment(name: string, what = 'name'): string {
  if (name.length === 0) throw new ClusterInputError(`empty ${what}`);
  if (name.length > MAX_NAME_LENGTH) throw new ClusterInputError(`${what} longer than ${MAX_NAME_LENGTH}`);
  if (SAFE.test(name)) return name;
  let out: string;
  try {
    out = encodeURIComponent(name);
  } catch {
    throw new ClusterInputError(`${what} is not valid Unicode`);
  }
  // encodeURIComponent leaves !*'() alone; * is a glob character and the others are kept out
  // so the safe set stays the one above.
  return out.replace(/[!*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The name a segment was made from. */
export function unsegment(seg: string): string {
  return decodeURIComponent(seg);
}

/** A uid from NodeLease.newUid(); anything else (it goes into keys as it is) is refused. */
export function checkUid(uid: string): string {
  if (!/^[0-9a-z]{1,64}$/.test(uid)) throw new ClusterInputError('malformed uid');
  return uid;
}

/** Room field names: `_`-prefixed ones are the implementation's own (the version). */
export function checkFields(names: Iterable<string>): void {
  for (const name of names) {
    if (name.startsWith('_') || name.length === 0 || name.length > MAX_NAME_LENGTH) {
      throw new ClusterInputError(`room field name not allowed: ${name.slice(0, 40)}`);
    }
  }
}
