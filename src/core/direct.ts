/**
 * Direct messages to users on other nodes, through the recipient node's inbox (bus.ts `send`).
 *
 * The rule of core/history holds across nodes: a message reaches no client before it is
 * durable. So the sender's node stores it first (committed at once, not batched with the turn)
 * under the msgid and time it made, and only then sends it; the event carries both, so the
 * recipient, the echo and history agree. Nothing awaits on the path to a local recipient
 * (commands/messaging.ts); this one is a rare path by nature (a lookup in the shared state).
 */
import { foldCase } from '../protocol/index.js';
import * as N from '../protocol/numerics.js';
import type { Delivery, MessageEvent } from '../cluster/events.js';
import type { UserRecord } from '../cluster/state.js';
import { dmKey } from '../store/store.js';
import { Outgoing } from './outgoing.js';
import type { Server } from './server.js';
import type { Session } from './session.js';

/** Stores (between two accounts) and sends `out`, already built and cut to fit, to a user of another node. */
export async function sendDirect(server: Server, session: Session, out: Outgoing, recipient: UserRecord): Promise<void> {
  const { command, params, tags } = out.message;
  const toAccount = recipient.account === null ? null : foldCase(recipient.account);
  if (command !== 'TAGMSG' && session.accountKey !== null && toAccount !== null) {
    await server.history.recordRelay(out, dmKey(session.accountKey, toAccount), session, true);
  }
  const clientTags: Record<string, string> = {};
  for (const key in tags) if (key[0] === '+') clientTags[key] = tags[key]!;
  const event: MessageEvent = {
    v: 1,
    origin: server.cluster.nodes.id,
    kind: 'message',
    command: command as MessageEvent['command'],
    from: session.uid,
    source: session.prefix,
    target: recipient.uid,
    text: command === 'TAGMSG' ? '' : params[1]!,
    tags: clientTags,
    account: session.account,
    msgid: tags!.msgid!,
    time: Date.parse(tags!.time!),
  };
  await server.cluster.bus.send(recipient.node, event);
  server.metrics.relayed(1);
  if (command === 'PRIVMSG' && recipient.away !== null) session.numeric(N.RPL_AWAY, recipient.nick, recipient.away);
  // The labeled-response capture is still open: the dispatcher ends it when this settles.
  session.echo(out);
}

/** A direct message from another node arrived in this node's inbox: hand it to its recipient. */
export function deliverDirect(server: Server, event: MessageEvent, delivery: Extract<Delivery, { type: 'event' }>): void {
  const recipient = server.users.localByUid(event.target);
  // The recipient left meanwhile: as for a message crossing a QUIT on one server.
  if (!recipient || typeof event.text !== 'string' || typeof event.source !== 'string') return;
  const tags: Record<string, string> = {
    ...event.tags,
    time: new Date(event.time ?? delivery.stamp.time).toISOString(),
    msgid: event.msgid ?? delivery.stamp.msgid,
  };
  if (event.account) tags.account = event.account;
  const params = event.command === 'TAGMSG' ? [recipient.nick] : [recipient.nick, event.text];
  recipient.deliver(new Outgoing({ tags, source: event.source, command: event.command, params }));
}
