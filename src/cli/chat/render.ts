/**
 * How each kind of line looks: `12:34 <alice> text`, `12:34 * alice waves`, `12:34 -NickServ- text`,
 * joins and leaves dim, errors red, mentions with the sender in reverse. Lines are pieces plus
 * the indent their continuation lines hang at.
 */
import type { ChatMessage } from '../../client/events.js';
import { stripFormatting } from '../../client/formatting.js';
import { formattedPieces, SGR, type Piece } from './ansi.js';
import { nickColour } from './colours.js';
import { textWidth } from './wrap.js';

export interface Entry {
  pieces: Piece[];
  indent: number;
}

export type EventKind = 'join' | 'part' | 'info' | 'error' | 'notice' | 'self';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** `12:34`, or `3 Nov 12:34` for another day. Local time. */
export function formatTime(time: Date, now = new Date()): string {
  const clock = `${pad(time.getHours())}:${pad(time.getMinutes())}`;
  const sameDay = time.getFullYear() === now.getFullYear() && time.getMonth() === now.getMonth() && time.getDate() === now.getDate();
  return sameDay ? clock : `${time.getDate()} ${MONTHS[time.getMonth()]} ${clock}`;
}

/** Does `text` name `nick` as a word (case-insensitive, formatting ignored)? */
export function mentions(text: string, nick: string): boolean {
  if (nick === '') return false;
  const escaped = nick.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\p{L}\\p{N}_\\-\\[\\]\\\\\`^{|}])${escaped}($|[^\\p{L}\\p{N}_\\-\\[\\]\\\\\`^{|}])`, 'iu').test(stripFormatting(text));
}

export function renderMessage(message: ChatMessage, options: { mention: boolean; now?: Date }): Entry {
  const time = { text: `${formatTime(message.time, options.now)} `, sgr: SGR.dim };
  const sender = message.sender;
  const senderSgr = options.mention ? SGR.mention : message.isOwn ? SGR.bold : nickColour(sender);
  let head: Piece[];
  let base = '';
  if (message.isAction) {
    head = [time, { text: '* ', sgr: '' }, { text: sender, sgr: senderSgr }, { text: ' ', sgr: '' }];
    base = SGR.italic;
  } else if (message.command === 'NOTICE') {
    head = [time, { text: '-', sgr: SGR.magenta }, { text: sender, sgr: senderSgr }, { text: '- ', sgr: SGR.magenta }];
  } else {
    head = [time, { text: '<', sgr: SGR.dim }, { text: sender, sgr: senderSgr }, { text: '> ', sgr: SGR.dim }];
  }
  const indent = head.reduce((sum, piece) => sum + textWidth(piece.text), 0);
  return { pieces: [...head, ...formattedPieces(message.text, base)], indent };
}

const MARKS: Record<EventKind, { mark: string; sgr: string; textSgr: string }> = {
  join: { mark: '→', sgr: SGR.green, textSgr: SGR.dim },
  part: { mark: '←', sgr: SGR.red, textSgr: SGR.dim },
  info: { mark: '·', sgr: SGR.dim, textSgr: SGR.dim },
  notice: { mark: '*', sgr: SGR.magenta, textSgr: '' },
  self: { mark: '*', sgr: SGR.cyan, textSgr: SGR.cyan },
  error: { mark: '!', sgr: SGR.boldRed, textSgr: SGR.red },
};

/** A line that is not a message: joins, leaves, topics, server replies, errors. */
export function renderEvent(kind: EventKind, text: string, time = new Date()): Entry {
  const { mark, sgr, textSgr } = MARKS[kind];
  const head: Piece[] = [
    { text: `${formatTime(time)} `, sgr: SGR.dim },
    { text: `${mark} `, sgr },
  ];
  const indent = head.reduce((sum, piece) => sum + textWidth(piece.text), 0);
  return { pieces: [...head, ...formattedPieces(text, textSgr)], indent };
}

/** A divider with a title: `──── #dev ────`. */
export function renderDivider(title: string): Entry {
  return { pieces: [{ text: `──── ${title} ────`, sgr: SGR.dim }], indent: 0 };
}
