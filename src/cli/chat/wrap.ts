/**
 * Laying out pieces in terminal lines: display width (wide CJK and emoji take two columns,
 * combining marks none) and wrapping at spaces with a hanging indent.
 */
import type { Piece } from './ansi.js';

const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}\u200b-\u200f\ufe00-\ufe0f]$/u;

export function charWidth(ch: string): number {
  const code = ch.codePointAt(0)!;
  if (code < 0x300) return 1;
  if (ZERO_WIDTH.test(ch)) return 0;
  if (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf && code !== 0x303f) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1f64f) ||
    (code >= 0x1f900 && code <= 0x1f9ff) ||
    (code >= 0x1f680 && code <= 0x1f6ff) ||
    (code >= 0x20000 && code <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

export function textWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += charWidth(ch);
  return width;
}

interface Cell {
  ch: string;
  sgr: string;
  width: number;
}

/**
 * Wrap to `columns`; continuation lines start with `indent` spaces (capped at a third of the
 * width, so narrow windows still have room for text). Breaks at the last space that fits,
 * else inside the word, and at every line feed.
 */
export function wrapPieces(pieces: Piece[], columns: number, indent: number): Piece[][] {
  const width = Math.max(columns, 10);
  const hang = Math.min(indent, Math.floor(width / 3));
  const cells: Cell[] = [];
  for (const piece of pieces) for (const ch of piece.text) cells.push({ ch, sgr: piece.sgr, width: charWidth(ch) });

  const lines: Cell[][] = [];
  let line: Cell[] = [];
  let used = 0;
  let lastSpace = -1;
  for (const cell of cells) {
    // The lines of a multiline message: each starts a new terminal line, indented like a wrap.
    if (cell.ch === '\n') {
      lines.push(line);
      line = Array.from({ length: hang }, () => ({ ch: ' ', sgr: '', width: 1 }));
      used = hang;
      lastSpace = -1;
      continue;
    }
    if (used + cell.width > width && line.length > 0) {
      const start = lines.length === 0 ? 0 : hang;
      const breakAt = lastSpace > start ? lastSpace : line.length;
      lines.push(line.slice(0, breakAt));
      const carried = line.slice(breakAt).filter((c, i) => !(i === 0 && c.ch === ' '));
      line = [...Array.from({ length: hang }, () => ({ ch: ' ', sgr: '', width: 1 })), ...carried];
      used = line.reduce((sum, c) => sum + c.width, 0);
      lastSpace = -1;
      if (cell.ch === ' ' && carried.length === 0) continue;
    }
    if (cell.ch === ' ') lastSpace = line.length;
    line.push(cell);
    used += cell.width;
  }
  lines.push(line);
  return lines.map(toPieces);
}

function toPieces(cells: Cell[]): Piece[] {
  const pieces: Piece[] = [];
  for (const cell of cells) {
    const last = pieces.at(-1);
    if (last && last.sgr === cell.sgr) last.text += cell.ch;
    else pieces.push({ text: cell.ch, sgr: cell.sgr });
  }
  return pieces;
}
