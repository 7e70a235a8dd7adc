/**
 * draft/metadata-2 (ircv3.net/specs/extensions/metadata): what a key and a value may be, and
 * the limits advertised in the cap value. Pure: no server, no I/O.
 */
import type { Config } from '../../config/schema.js';

/**
 * The keys Parley's own clients use, as the IRCv3 registry spells them (`display-name`,
 * `avatar`, `status`; `pronouns` is not in the registry yet and is spelled as Ergo's and
 * other clients' proposals do). Any other valid key may be set too, as in Ergo: the spec lets
 * the server choose, and a client that knows a key should not need a server upgrade.
 */
export const KNOWN_METADATA_KEYS = ['display-name', 'avatar', 'pronouns', 'status'] as const;

/**
 * Longest key accepted. The spec sets no bound; one is needed so that a key and a value of
 * max-value-bytes fit in one 512-byte line (761 and METADATA carry both), as Ergo bounds key
 * plus value (350 bytes). A longer key is KEY_INVALID.
 */
export const MAX_KEY_BYTES = 64;

/** The spec's grammar: one or more of a-z, 0-9 and `_./-` ("Keys and Values"). */
const KEY_GRAMMAR = /^[a-z0-9_./-]+$/;

export function isValidMetadataKey(key: string): boolean {
  return key.length <= MAX_KEY_BYTES && KEY_GRAMMAR.test(key);
}

/**
 * Why a value is refused (VALUE_INVALID), or null. Invalid UTF-8 never gets here: the session
 * refuses the whole line first (FAIL METADATA INVALID_UTF8). Control characters (C0, DEL) are
 * refused: a value is shown as a name, an avatar URL or a status, where a formatting code or a
 * bell is never meant, and a client that prints it raw would let them reach the terminal.
 */
export function metadataValueProblem(value: string, maxBytes: number): string | null {
  if (Buffer.byteLength(value, 'utf8') > maxBytes) return `Value is too long (at most ${maxBytes} bytes)`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'Value contains control characters';
  return null;
}

/** `before-connect,max-subs=N,max-keys=N,max-value-bytes=N`: the cap value in CAP LS 302. */
export function metadataCapValue(limits: Config['limits']): string {
  return `before-connect,max-subs=${limits.metadata_max_subs},max-keys=${limits.metadata_max_keys},max-value-bytes=${limits.metadata_max_value_bytes}`;
}
