/**
 * Wildcard matching for every mask Parley knows (bans, WHO, K-lines, and later +e, +I, extbans,
 * MONITOR): `*` matches any run of characters, `?` exactly one; everything else is literal and
 * compared as is, so callers fold case first.
 *
 * No regular expression: V8's backtracking made `*a*a*a*a*a*a*a*a*a*a*b` against thirty `a`s run
 * for minutes. This is the classic two-pointer algorithm: on a mismatch it only ever retries from
 * the last `*` seen, so the worst case is O(mask × subject) steps and the usual case is linear.
 */
export function matchGlob(mask: string, subject: string): boolean {
  const STAR = 42; // '*'
  const QUESTION = 63; // '?'
  let m = 0;
  let s = 0;
  let starAt = -1; // index of the last '*' in the mask
  let resumeAt = 0; // where in the subject that '*' currently ends
  while (s < subject.length) {
    const c = m < mask.length ? mask.charCodeAt(m) : -1;
    if (c === STAR) {
      starAt = m++;
      resumeAt = s;
    } else if (c !== -1 && (c === QUESTION || c === subject.charCodeAt(s))) {
      m++;
      s++;
    } else if (starAt !== -1) {
      // Let the last '*' swallow one more character and try the rest of the mask again.
      m = starAt + 1;
      s = ++resumeAt;
    } else {
      return false;
    }
  }
  while (m < mask.length && mask.charCodeAt(m) === STAR) m++;
  return m === mask.length;
}

/** True if the mask has a wildcard (a WHO argument is a mask search only then). */
export function hasWildcard(mask: string): boolean {
  return mask.includes('*') || mask.includes('?');
}
