/**
 * A client's draft/multiline batch (ircv3.net/specs/extensions/multiline), gathered line by
 * line and, at `BATCH -<ref>`, sent as one PRIVMSG through the usual path (commands/
 * messaging.ts): the same checks, one msgid, one history row, one echo (multiline.ts shapes
 * it for each recipient).
 *
 *   BATCH +<ref> draft/multiline <target>       opening; its client tags and label are the message's
 *   @batch=<ref>[;draft/multiline-concat] PRIVMSG <target> :<line>
 *   BATCH -<ref>
 *
 * Refused with `FAIL BATCH MULTILINE_*` and dropped whole: a batch without the caps, a second
 * one while one is open, a line for another target, a command other than PRIVMSG inside it
 * (PING and PONG pass), more than the cap's max-bytes or max-lines, a concatenated blank line,
 * a CTCP (\x01) on any line,
 * a message of blank lines only, another command before the batch is closed (that command then
 * runs). The lines' text is checked as a PRIVMSG's is (commands/text-policy.ts), with LF allowed
 * between them. After a refusal the rest of that batch's lines are dropped without a reply each.
 * What is open is bounded by max-bytes, and the input gate charges each line inside a batch an
 * eighth of a line (input-gate.ts), so a whole paste is one short burst, not a minute of fakelag.
 */
import { foldCase, type IrcMessage, type Tags } from '../protocol/index.js';
import { utf8Length } from '../protocol/line-fit.js';
import { CONCAT_TAG, MULTILINE_BATCH, MULTILINE_CAP } from './multiline.js';
import type { Server } from './server.js';
import type { Session } from './session.js';

/** What one line inside an open batch costs of the input gate's token (a whole line costs 1). */
export const BATCH_LINE_COST = 1 / 8;

export interface OpenMultiline {
  ref: string;
  target: string;
  /** The opening line's tags: client-only tags and the label. */
  tags: Tags;
  text: string;
  lines: number;
  bytes: number;
}

/** The messages made from batches: PRIVMSG takes their text as it is (no cut to one line). */
const assembled = new WeakSet<IrcMessage>();

export function isAssembled(message: IrcMessage): boolean {
  return assembled.has(message);
}

const PASS_THROUGH = new Set(['PING', 'PONG']);

/** Takes the line if it belongs to multiline batching; false lets it be dispatched as usual. */
export function interceptMultiline(server: Server, session: Session, message: IrcMessage): boolean {
  const open = session.multiline;
  const batchTag = message.tags?.batch;
  if (message.command === 'BATCH') return batchCommand(server, session, message);
  if (open !== null && batchTag === open.ref) {
    addLine(server, session, open, message);
    return true;
  }
  if (batchTag !== undefined && session.refusedBatches?.has(batchTag)) return true;
  if (open !== null && !PASS_THROUGH.has(message.command)) refuse(session, 'MULTILINE_INVALID', 'The multiline batch was not closed before another command');
  return false;
}

function batchCommand(server: Server, session: Session, message: IrcMessage): boolean {
  const [reference = '', type, target] = message.params;
  const ref = reference.slice(1);
  if (reference[0] === '-') {
    const open = session.multiline;
    if (open !== null && open.ref === ref) close(server, session, open);
    else if (session.refusedBatches?.delete(ref)) {
      if (session.refusedBatches.size === 0) session.refusedBatches = null;
    }
    else session.standardReply('FAIL', ['BATCH', 'MULTILINE_INVALID', 'No such batch is open']);
    return true;
  }
  if (reference[0] !== '+' || type !== MULTILINE_BATCH) return false; // any other BATCH: unknown command
  if (!session.has(MULTILINE_CAP) || !session.has('batch')) {
    session.standardReply('FAIL', ['BATCH', 'MULTILINE_INVALID', 'Negotiate draft/multiline and batch first']);
    remember(session, ref);
    return true;
  }
  if (session.multiline !== null) {
    refuse(session, 'MULTILINE_INVALID', 'Only one multiline batch may be open at a time');
    remember(session, ref);
    return true;
  }
  if (ref === '' || target === undefined || target === '' || target.includes(',')) {
    session.standardReply('FAIL', ['BATCH', 'MULTILINE_INVALID', 'A multiline batch needs a reference and one target']);
    remember(session, ref);
    return true;
  }
  const tags: Tags = {};
  for (const key in message.tags) if (key[0] === '+' || key === 'label') tags[key] = message.tags[key]!;
  session.multiline = { ref, target, tags, text: '', lines: 0, bytes: 0 };
  return true;
}

function addLine(server: Server, session: Session, open: OpenMultiline, message: IrcMessage): void {
  const { limits } = server.config;
  if (message.command !== 'PRIVMSG') return refuse(session, 'MULTILINE_INVALID', 'A multiline batch holds PRIVMSG lines only');
  const [target = '', text = ''] = message.params;
  if (foldCase(target) !== foldCase(open.target)) {
    return refuse(session, 'MULTILINE_INVALID_TARGET', 'Invalid multiline target', [open.target, target]);
  }
  const concat = message.tags?.[CONCAT_TAG] !== undefined && open.lines > 0;
  if (concat && text === '') return refuse(session, 'MULTILINE_INVALID', 'A concatenated line may not be blank');
  // A client without the cap gets each line as a PRIVMSG: a CTCP on any of them would reach it
  // past +C and make every such client in the room answer.
  if (text.includes('\x01')) return refuse(session, 'MULTILINE_INVALID', 'CTCP cannot be part of a multiline message');
  const bytes = open.bytes + utf8Length(text) + (open.lines > 0 && !concat ? 1 : 0);
  if (bytes > limits.multiline_max_bytes) return refuse(session, 'MULTILINE_MAX_BYTES', 'Multiline batch max-bytes exceeded', [String(limits.multiline_max_bytes)]);
  if (open.lines + 1 > limits.multiline_max_lines) return refuse(session, 'MULTILINE_MAX_LINES', 'Multiline batch max-lines exceeded', [String(limits.multiline_max_lines)]);
  open.text += open.lines > 0 && !concat ? `\n${text}` : text;
  open.lines++;
  open.bytes = bytes;
}

/** The batch is complete: one PRIVMSG through the dispatcher, with the opening's tags. */
function close(server: Server, session: Session, open: OpenMultiline): void {
  session.multiline = null;
  if (open.text.replace(/\n/g, '') === '') {
    session.standardReply('FAIL', ['BATCH', 'MULTILINE_INVALID', 'A multiline message needs text']);
    return;
  }
  const message: IrcMessage = { tags: open.tags, command: 'PRIVMSG', params: [open.target, open.text] };
  assembled.add(message);
  server.dispatch(session, message);
}

function refuse(session: Session, code: string, text: string, params: string[] = []): void {
  const open = session.multiline;
  session.multiline = null;
  if (open !== null) remember(session, open.ref);
  session.standardReply('FAIL', ['BATCH', code, ...params, text]);
}

/** Refused batches whose lines are still to come and be dropped: a few, the oldest forgotten. */
const REFUSED_KEPT = 4;

function remember(session: Session, ref: string): void {
  const refused = (session.refusedBatches ??= new Set());
  refused.add(ref);
  if (refused.size > REFUSED_KEPT) refused.delete(refused.values().next().value!);
}
