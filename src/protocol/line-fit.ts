import { MAX_LINE_BYTES } from './message.js';

/**
 * Every line a server sends is at most 512 bytes without its tags, CRLF included
 * (modern.ircdocs.horse "Message format"). A client's line fits that limit with the client's own
 * short prefix (none); relayed, the same text gains `:nick!user@host `, so it may not fit any
 * more. `fitLastParam` returns `params` with the last one cut, at a UTF-8 character boundary,
 * just enough for `:<source> <command> <params...>` to fit; `params` itself when it already
 * does (the common case: no copy). The trailing `:` is always counted, so the result fits
 * however it is serialized. Pure: byte counts only, no serialization.
 */
export function fitLastParam(source: string | undefined, command: string, params: string[]): string[] {
  if (params.length === 0) return params;
  // ":" source " " command, then " " before each param, ":" before the last, CRLF.
  let total = (source === undefined ? 0 : utf8Length(source) + 2) + command.length + params.length + 1 + 2;
  const last = params.length - 1;
  for (let i = 0; i < last; i++) total += utf8Length(params[i]!);
  const text = params[last]!;
  const room = MAX_LINE_BYTES - total;
  // Cheap first: a string of n UTF-16 units is at most 3n bytes.
  if (text.length * 3 <= room || utf8Length(text) <= room) return params;
  const out = params.slice();
  out[last] = truncateUtf8(text, Math.max(0, room));
  return out;
}

/** `text` cut to at most `maxBytes` of UTF-8, never inside a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  let bytes = 0;
  for (let i = 0; i < text.length; ) {
    const units = isPair(text, i) ? 2 : 1;
    const size = units === 2 ? 4 : byteSize(text.charCodeAt(i));
    if (bytes + size > maxBytes) return text.slice(0, i);
    bytes += size;
    i += units;
  }
  return text;
}

/** UTF-8 length of a string without encoding it (a lone surrogate counts 3: the encoder writes U+FFFD). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    if (isPair(text, i)) {
      bytes += 4;
      i++;
    } else bytes += byteSize(text.charCodeAt(i));
  }
  return bytes;
}

function byteSize(code: number): number {
  return code < 0x80 ? 1 : code < 0x800 ? 2 : 3;
}

/** A high surrogate followed by a low one: one 4-byte character in two UTF-16 units. */
function isPair(text: string, i: number): boolean {
  const code = text.charCodeAt(i);
  if (code < 0xd800 || code > 0xdbff) return false;
  const next = text.charCodeAt(i + 1);
  return next >= 0xdc00 && next <= 0xdfff;
}
