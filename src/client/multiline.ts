/**
 * draft/multiline in the engine (ircv3.net/specs/extensions/multiline): text of several lines
 * goes out as one batch, within the limits the server's cap value sets, and a batch that
 * arrives becomes one message with the lines joined (LF, or nothing for a concatenated line).
 */
import type { IrcMessage } from '../protocol/index.js';
import { utf8Length } from './base64.js';
import { splitText } from './split-text.js';
import type { Batch } from './batches.js';

export const MULTILINE_CAP = 'draft/multiline';
const CONCAT = 'draft/multiline-concat';

export interface MultilineLimits {
  maxBytes: number;
  maxLines: number;
}

/** The limits of a `draft/multiline=max-bytes=4096,max-lines=100` cap value; null if unusable. */
export function multilineLimits(value: string | undefined): MultilineLimits | null {
  if (value === undefined) return null;
  const fields = new Map(value.split(',').map((token): [string, string] => {
    const eq = token.indexOf('=');
    return eq === -1 ? [token, ''] : [token.slice(0, eq), token.slice(eq + 1)];
  }));
  const maxBytes = Number(fields.get('max-bytes'));
  const maxLines = fields.has('max-lines') ? Number(fields.get('max-lines')) : Number.POSITIVE_INFINITY;
  if (!Number.isInteger(maxBytes) || maxBytes <= 0 || !(maxLines >= 1)) return null;
  return { maxBytes, maxLines };
}

export interface BatchLine {
  text: string;
  concat: boolean;
}

/**
 * `text` as the lines of one or more batches: each line cut into pieces of at most `budget`
 * bytes at a space (the space kept at the end of a piece, so the pieces join back exactly),
 * the pieces after the first marked concat; a batch closes before it would pass the limits.
 * Blank lines at the ends are dropped; an all-blank text gives nothing.
 */
export function multilineBatches(text: string, budget: number, limits: MultilineLimits): BatchLine[][] {
  const lines = text.replace(/\r\n?/g, '\n').replace(/^\n+|\n+$/g, '').split('\n');
  if (lines.every((line) => line.trim() === '')) return [];
  const batches: BatchLine[][] = [];
  let current: BatchLine[] = [];
  let bytes = 0;
  const push = (piece: BatchLine) => {
    const size = utf8Length(piece.text) + (current.length > 0 && !piece.concat ? 1 : 0);
    if (current.length > 0 && (current.length + 1 > limits.maxLines || bytes + size > limits.maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
      piece = { text: piece.text, concat: false };
      return push(piece);
    }
    current.push(piece);
    bytes += size;
  };
  for (const line of lines) splitText(line, Math.min(budget, limits.maxBytes), true).forEach((text, i) => push({ text, concat: i > 0 }));
  if (current.length > 0) batches.push(current);
  return batches;
}

/** A finished multiline batch as the one PRIVMSG it stands for: the opening's tags and source. */
export function joinMultiline(batch: Batch): IrcMessage | null {
  const lines = batch.messages.filter((m) => m.tags?.batch === batch.id && m.command === 'PRIVMSG');
  const first = lines[0];
  if (!first) return null;
  let text = '';
  lines.forEach((m, i) => {
    text += (i === 0 || m.tags?.[CONCAT] !== undefined ? '' : '\n') + (m.params[1] ?? '');
  });
  const tags = { ...batch.tags };
  delete tags.batch;
  const parent = batch.parent;
  return { tags: parent === null ? tags : { ...tags, batch: parent }, source: first.source, command: 'PRIVMSG', params: [batch.params[0] ?? first.params[0]!, text] };
}
