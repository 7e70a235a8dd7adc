/**
 * Password normalisation standing in for SASLprep (RFC 4013), which SCRAM requires (RFC 5802
 * section 2.2) and which we also apply before scrypt so PLAIN and SCRAM accept the same password.
 *
 * It performs SASLprep's mapping steps faithfully: characters "commonly mapped to nothing"
 * (RFC 3454 table B.1) are dropped, non-ASCII spaces (table C.1.2) become U+0020, then NFKC.
 * Not done: refusing prohibited output (controls, private use, ...) and the bidi checks. Such
 * passwords are therefore hashed as given instead of being refused; a conforming client refuses
 * them itself, so the difference never makes a valid login fail.
 */
// B.1 is removed before C.1.2 is mapped: U+200B is in both tables, and removing it first is
// what the common implementations do.
const MAPPED_TO_NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/g;
const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g;

export function saslPrep(password: string): string {
  return password.replace(MAPPED_TO_NOTHING, '').replace(NON_ASCII_SPACE, ' ').normalize('NFKC');
}
