import type { IrcMessage, Tags } from '../../protocol/index.js';
import type { StoredMessage } from '../../store/store.js';
import type { Server } from '../server.js';
import type { Session } from '../session.js';

/**
 * A stored message as it is played back: original source, command, target and text, with its
 * original time and msgid; an event (JOIN, MODE...) as its line was, with its parameters. Tags are filtered per the client's caps when the line is encoded
 * (outgoing.ts), so one shape serves every client; `batch` is always kept.
 */
export function historyLine(message: StoredMessage, batch: string | null): IrcMessage {
  const tags: Tags = { ...message.tags, time: new Date(message.time).toISOString(), msgid: message.msgid };
  // The store keeps the account key (folded), which is what account-tag shows here.
  if (message.account !== null) tags.account = message.account;
  if (batch !== null) tags.batch = batch;
  // An event (draft/event-playback) is played back with its line's own parameters.
  const params = message.params ?? [message.target, message.text];
  return { tags, source: message.source, command: message.command, params };
}

/**
 * Send history to one client: inside `BATCH +id chathistory <target>` if it negotiated batch,
 * otherwise as plain lines. `emptyBatch`: CHATHISTORY always answers with a batch (the spec asks
 * for one even when there is nothing); JOIN replay sends nothing when there is nothing.
 */
export function sendHistory(server: Server, session: Session, target: string, messages: StoredMessage[], emptyBatch: boolean): void {
  if (!session.has('batch')) {
    for (const message of messages) session.sendMessage(historyLine(message, null));
    return;
  }
  if (messages.length === 0 && !emptyBatch) return;
  const id = server.nextBatchId();
  session.sendMessage({ source: server.name, command: 'BATCH', params: [`+${id}`, 'chathistory', target] });
  for (const message of messages) session.sendMessage(historyLine(message, id));
  session.sendMessage({ source: server.name, command: 'BATCH', params: [`-${id}`] });
}
