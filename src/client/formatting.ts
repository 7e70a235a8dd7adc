/**
 * IRC formatting codes (https://modern.ircdocs.horse/formatting) to styled spans, for the
 * terminal (ANSI) and the web (styled text nodes, never HTML); and the markdown-ish shorthand
 * people type (`*bold*`, `_italic_`, `` `code` ``) to those codes.
 */

/** An IRC colour number (0-98) or `#rrggbb` (from the \x04 hex colour code). */
export type Colour = number | string;

export interface Style {
  bold?: boolean;
  italic?: boolean;
  underline?: boolean;
  strikethrough?: boolean;
  monospace?: boolean;
  reverse?: boolean;
  fg?: Colour;
  bg?: Colour;
}

export interface StyledSpan {
  text: string;
  style: Style;
}

export const BOLD = '\x02';
export const ITALIC = '\x1d';
export const UNDERLINE = '\x1f';
export const STRIKETHROUGH = '\x1e';
export const MONOSPACE = '\x11';
export const REVERSE = '\x16';
export const RESET = '\x0f';
export const COLOUR = '\x03';
export const HEX_COLOUR = '\x04';

const TOGGLES: Record<string, keyof Style> = {
  [BOLD]: 'bold',
  [ITALIC]: 'italic',
  [UNDERLINE]: 'underline',
  [STRIKETHROUGH]: 'strikethrough',
  [MONOSPACE]: 'monospace',
  [REVERSE]: 'reverse',
};

const COLOUR_CODE = /^\x03(?:(\d{1,2})(?:,(\d{1,2}))?)?/;
const HEX_CODE = /^\x04(?:([0-9A-Fa-f]{6})(?:,([0-9A-Fa-f]{6}))?)?/;
// Other control characters must never reach a terminal (escape sequences) or a page. A line
// feed stays: it separates the lines of a multiline message (draft/multiline).
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/**
 * Split text into runs of one style. Control characters other than formatting codes and line
 * feeds are dropped and tabs become spaces, so the spans are safe to print anywhere.
 */
export function parseFormatting(text: string): StyledSpan[] {
  const spans: StyledSpan[] = [];
  let style: Style = {};
  let run = '';
  const flush = () => {
    if (run !== '') spans.push({ text: run, style: { ...style } });
    run = '';
  };
  for (let i = 0; i < text.length; ) {
    const ch = text[i]!;
    const toggle = TOGGLES[ch];
    if (toggle) {
      flush();
      style = { ...style, [toggle]: !style[toggle] };
      i++;
    } else if (ch === RESET) {
      flush();
      style = {};
      i++;
    } else if (ch === COLOUR || ch === HEX_COLOUR) {
      flush();
      const match = (ch === COLOUR ? COLOUR_CODE : HEX_CODE).exec(text.slice(i, i + 16))!;
      style = applyColour(style, match[1], match[2], ch === HEX_COLOUR);
      i += match[0].length;
    } else {
      run += ch === '\t' ? ' ' : ch.replace(UNSAFE, '');
      i++;
    }
  }
  flush();
  return spans;
}

function applyColour(style: Style, fg: string | undefined, bg: string | undefined, hex: boolean): Style {
  const next = { ...style };
  // A bare colour code resets both colours.
  if (fg === undefined) {
    delete next.fg;
    delete next.bg;
    return next;
  }
  const value = (raw: string): Colour | undefined => (hex ? `#${raw.toLowerCase()}` : Number(raw) === 99 ? undefined : Number(raw));
  const setOrClear = (key: 'fg' | 'bg', raw: string) => {
    const colour = value(raw);
    if (colour === undefined) delete next[key];
    else next[key] = colour;
  };
  setOrClear('fg', fg);
  if (bg !== undefined) setOrClear('bg', bg);
  return next;
}

/** The text without any formatting codes (for mention matching, notifications, widths). */
export function stripFormatting(text: string): string {
  return parseFormatting(text)
    .map((span) => span.text)
    .join('');
}

const WORD = /[\p{L}\p{N}]/u;
const SPACE = /\s/;
const URL_START = /^(?:https?|ftp):\/\/\S+/i;

/**
 * `*bold*` (or `**bold**`) -> \x02bold\x02, `_italic_` -> \x1ditalic\x1d, `` `code` `` -> \x11code\x11.
 * Markers count only at word edges (snake_case, 2*3*4 and URLs stay as typed); unmatched
 * markers are left alone; nothing inside code is converted.
 */
export function toIrcFormatting(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    const atWordStart = i === 0 || !WORD.test(text[i - 1]!);
    if (atWordStart && ch !== '`' && ch !== '*' && ch !== '_') {
      const url = URL_START.exec(text.slice(i));
      if (url && (i === 0 || SPACE.test(text[i - 1]!))) {
        out += url[0];
        i += url[0].length;
        continue;
      }
    }
    if (ch === '`') {
      const end = text.indexOf('`', i + 1);
      if (end > i + 1) {
        out += MONOSPACE + text.slice(i + 1, end) + MONOSPACE;
        i = end + 1;
        continue;
      }
    } else if ((ch === '*' || ch === '_') && atWordStart && text[i - 1] !== ch) {
      const marker = ch === '*' && text.startsWith('**', i) ? '**' : ch;
      const end = findClose(text, i + marker.length, marker);
      if (end !== -1) {
        const code = ch === '*' ? BOLD : ITALIC;
        out += code + toIrcFormatting(text.slice(i + marker.length, end)) + code;
        i = end + marker.length;
        continue;
      }
    }
    out += ch;
    i++;
  }
  return out;
}

/** Index of the closing `marker` for content starting at `from`, or -1. */
function findClose(text: string, from: number, marker: string): number {
  const first = text[from];
  if (first === undefined || SPACE.test(first) || first === marker[0]) return -1;
  for (let j = from + 1; j < text.length; j++) {
    if (text[j] === '`') {
      const end = text.indexOf('`', j + 1);
      if (end !== -1) j = end;
      continue;
    }
    if (!text.startsWith(marker, j)) continue;
    const after = text[j + marker.length];
    const before = text[j - 1]!;
    if (!SPACE.test(before) && before !== marker[0] && (after === undefined || !WORD.test(after)) && after !== marker[0]) return j;
  }
  return -1;
}
