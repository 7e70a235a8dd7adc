/**
 * Styles as ANSI SGR parameters: IRC formatting spans (src/client/formatting.ts) and the chat's
 * own styles (time, nicks, notices) both become `Piece`s, which wrap.ts lays out in lines.
 */
import { ircColourHex } from '../../client/irc-colours.js';
import { parseFormatting, type Colour, type Style } from '../../client/formatting.js';

/** Text with the SGR parameters it is drawn with ('' = plain). No escape codes in `text`. */
export interface Piece {
  text: string;
  sgr: string;
}

// IRC 0-15 as the terminal's own 16 colours, so they follow the user's theme.
const BASIC_FG = [97, 30, 34, 32, 91, 31, 35, 33, 93, 92, 36, 96, 94, 95, 90, 37];

export const SGR = {
  dim: '2',
  bold: '1',
  italic: '3',
  reverse: '7',
  red: '31',
  green: '32',
  yellow: '33',
  magenta: '35',
  cyan: '36',
  grey: '90',
  boldRed: '1;31',
  boldYellow: '1;33',
  mention: '1;30;43',
};

/** `\x1b[...m` for a piece, reset first so nothing bleeds from the previous one. */
export function encode(pieces: Piece[]): string {
  let out = '';
  for (const piece of pieces) out += piece.sgr === '' ? `\x1b[0m${piece.text}` : `\x1b[0;${piece.sgr}m${piece.text}`;
  return pieces.length > 0 ? `${out}\x1b[0m` : out;
}

/** Message text with IRC formatting as pieces; `base` (e.g. italic for actions) underlies it. */
export function formattedPieces(text: string, base = ''): Piece[] {
  return parseFormatting(text).map((span) => ({ text: span.text, sgr: join(base, styleToSgr(span.style)) }));
}

export function styleToSgr(style: Style): string {
  const codes: string[] = [];
  if (style.bold) codes.push('1');
  if (style.italic) codes.push('3');
  if (style.underline) codes.push('4');
  if (style.strikethrough) codes.push('9');
  if (style.reverse) codes.push('7');
  if (style.fg !== undefined) codes.push(colourSgr(style.fg, false));
  if (style.bg !== undefined) codes.push(colourSgr(style.bg, true));
  // The terminal is monospace already: code stands out by a grey box (fg and bg both set, so it
  // reads on light and dark themes alike).
  if (style.monospace && style.fg === undefined && style.bg === undefined) codes.push('38;5;252;48;5;238');
  return codes.join(';');
}

function colourSgr(colour: Colour, background: boolean): string {
  if (typeof colour === 'number' && colour < 16) return String(BASIC_FG[colour]! + (background ? 10 : 0));
  const hex = typeof colour === 'number' ? ircColourHex(colour) : colour;
  if (!hex) return background ? '49' : '39';
  return `${background ? 48 : 38};5;${nearest256(hex)}`;
}

const CUBE = [0, 95, 135, 175, 215, 255];

/** The xterm-256 colour closest to `#rrggbb`: from the 6x6x6 cube or the grey ramp. */
export function nearest256(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
  const level = (v: number) => CUBE.reduce((best, c, i) => (Math.abs(c - v) < Math.abs(CUBE[best]! - v) ? i : best), 0);
  const [ri, gi, bi] = [level(r), level(g), level(b)];
  const cube = 16 + 36 * ri + 6 * gi + bi;
  const cubeDistance = (CUBE[ri]! - r) ** 2 + (CUBE[gi]! - g) ** 2 + (CUBE[bi]! - b) ** 2;
  const greyIndex = Math.max(0, Math.min(23, Math.round(((r + g + b) / 3 - 8) / 10)));
  const grey = 8 + 10 * greyIndex;
  const greyDistance = (grey - r) ** 2 + (grey - g) ** 2 + (grey - b) ** 2;
  return greyDistance < cubeDistance ? 232 + greyIndex : cube;
}

export function join(...sgr: string[]): string {
  return sgr.filter((s) => s !== '').join(';');
}
