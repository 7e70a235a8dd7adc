/**
 * draft/multiline (ircv3.net/specs/extensions/multiline): one message of several lines, or
 * longer than one IRC line, kept as one message everywhere inside Parley (the room's log,
 * history, search, REDACT by one msgid) and cut into lines only on the way out.
 *
 * A PRIVMSG whose text holds a line feed, or is longer than one line can carry, is such a
 * message: no other path can make one (a client's line has no LF, and every relay cuts its text
 * to fit, protocol/line-fit.ts). Its text is the combined value the spec defines: the lines
 * joined by LF, a concatenated line joined with nothing.
 *
 * On the way out each recipient's view (outgoing.ts) picks one of two forms:
 * - with draft/multiline and batch: `BATCH +ml-<msgid> draft/multiline <target>` carrying the
 *   message's tags (and a label or an enclosing batch), its lines tagged with the batch, a
 *   piece of a line too long for one IRC line tagged `draft/multiline-concat`, `BATCH -`;
 * - without: each non-blank line as a PRIVMSG, the long ones cut the same way; the msgid and
 *   client tags on the first line only, time and account on each.
 * Parley does not keep the sender's own line composition: a long line is cut again at the last
 * space that fits (the space stays at the end of the piece, as the spec advises clients), the
 * same way live and in history, so every client and every replay sees the same lines.
 */
import { serializeMessage, type IrcMessage, type Tags } from '../protocol/index.js';
import { MAX_LINE_BYTES } from '../protocol/message.js';
import { truncateUtf8, utf8Length } from '../protocol/line-fit.js';
import type { Config } from '../config/schema.js';

export const MULTILINE_CAP = 'draft/multiline';
export const CONCAT_TAG = 'draft/multiline-concat';
export const MULTILINE_BATCH = 'draft/multiline';

/** The cap's value: the limits a client's batch must keep (max-bytes is required). */
export function multilineCapValue(limits: Config['limits']): string {
  return `max-bytes=${limits.multiline_max_bytes},max-lines=${limits.multiline_max_lines}`;
}

/** Bytes left for the text of `:<source> PRIVMSG <target> :<text>\r\n`. */
function textRoom(source: string | undefined, target: string): number {
  return MAX_LINE_BYTES - ((source === undefined ? 0 : utf8Length(source) + 2) + 'PRIVMSG'.length + utf8Length(target) + 2 + 1 + 2);
}

/** True for a PRIVMSG that is a multiline message (see above). Cheap for the usual short line. */
export function isMultiline(message: IrcMessage): boolean {
  if (message.command !== 'PRIVMSG' || message.params.length !== 2) return false;
  const text = message.params[1]!;
  if (text.includes('\n')) return true;
  const room = textRoom(message.source, message.params[0]!);
  return text.length * 3 > room && utf8Length(text) > room;
}

export interface Piece {
  text: string;
  /** Joined to the previous piece with nothing (the rest of a line too long for one). */
  concat: boolean;
}

/** The combined text as lines of at most `room` bytes each: LF-separated lines, long ones cut at a space. */
export function pieces(text: string, room: number): Piece[] {
  const out: Piece[] = [];
  for (const line of text.split('\n')) {
    let rest = line;
    let concat = false;
    while (utf8Length(rest) > room) {
      const head = cutAtSpace(rest, room);
      out.push({ text: head, concat });
      rest = rest.slice(head.length);
      concat = true;
    }
    out.push({ text: rest, concat });
  }
  return out;
}

/** The longest start of `text` within `room` bytes, ending after a space when there is one. */
function cutAtSpace(text: string, room: number): string {
  const fits = truncateUtf8(text, Math.max(1, room));
  const space = fits.lastIndexOf(' ');
  // A cut without a space (a long URL) still has to make progress.
  const head = space > 0 ? fits.slice(0, space + 1) : fits;
  return head === '' ? text.slice(0, 1) : head;
}

/**
 * The wire form of a multiline message for one recipient. `visible` filters tags for the
 * recipient's view (outgoing.ts); `batchForm` is its choice of form. `label` and `batch` of
 * the message (a labeled echo, a line of a chathistory batch) go where the spec puts them.
 */
export function encodeMultiline(message: IrcMessage, batchForm: boolean, visible: (tags: Tags) => Tags | undefined): string {
  const [target, text] = message.params as [string, string];
  const { label, batch: outer, ...own } = message.tags ?? {};
  const source = message.source;
  const parts = pieces(text, textRoom(source, target));
  const line = (tags: Tags | undefined, params: string[], command = 'PRIVMSG') => serializeMessage({ tags, source, command, params });
  if (batchForm) {
    const ref = `ml-${own.msgid ?? '0'}`;
    const opening: Tags = { ...visible(own) };
    if (label !== undefined) opening.label = label;
    if (outer !== undefined) opening.batch = outer;
    let out = line(opening, [`+${ref}`, MULTILINE_BATCH, target], 'BATCH');
    for (const part of parts) out += line(part.concat ? { batch: ref, [CONCAT_TAG]: '' } : { batch: ref }, [target, part.text]);
    return out + serializeMessage({ source, command: 'BATCH', params: [`-${ref}`] });
  }
  // The fallback: no blank lines; the first line sent carries everything the batch would have.
  const later: Tags = {};
  if (own.time !== undefined) later.time = own.time;
  if (own.account !== undefined) later.account = own.account;
  let out = '';
  for (const part of parts) {
    if (part.text === '') continue;
    const tags: Tags = { ...(out === '' ? visible(own) : visible(later)) };
    if (out === '' && label !== undefined) tags.label = label;
    if (outer !== undefined) tags.batch = outer;
    out += line(tags, [target, part.text]);
  }
  return out;
}
