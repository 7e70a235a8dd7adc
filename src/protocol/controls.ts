/**
 * Control characters in text. IRC formatting (modern.ircdocs.horse/formatting) uses a few C0
 * codes; any other C0 control or DEL in text a user sees is refused by the server, so nothing
 * can ring bells, move cursors or hide text in another user's terminal.
 */

/** Bold, colour, hex colour, reset, monospace, reverse, italics, strikethrough, underline. */
export const FORMATTING_CODES = '\x02\x03\x04\x0f\x11\x16\x1d\x1e\x1f';

/** The CTCP delimiter, which PRIVMSG and NOTICE text may carry (`\x01ACTION waves\x01`). */
export const CTCP_DELIMITER = '\x01';

/** True if `text` holds a C0 control character (U+0000-U+001F) or DEL not listed in `allowed`. */
export function hasForbiddenControls(text: string, allowed = ''): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 || code === 0x7f) && !allowed.includes(text[i]!)) return true;
  }
  return false;
}

/** `text` without the control characters `hasForbiddenControls` would refuse. */
export function stripForbiddenControls(text: string, allowed = ''): string {
  if (!hasForbiddenControls(text, allowed)) return text;
  let out = '';
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    if ((code >= 0x20 && code !== 0x7f) || allowed.includes(ch)) out += ch;
  }
  return out;
}
