/**
 * REDACT (draft/message-redaction) across the network, once the store has deleted the message
 * (commands/redact.ts decides whether it may be, and deletes it first: a redaction nobody could
 * store is announced to no one).
 *
 * Room: a `redact` event in the room's log, as room messages travel (room-messages.ts,
 * room-log.ts). Every node, the redacter's included, tells its local members at the event's
 * turn, so on every node it comes in the room's order, after the message it redacts.
 * Direct: to the recipient's node inbox when the recipient is elsewhere (as direct.ts sends a
 * direct message), straight to the recipient when it is here.
 *
 * Only clients that negotiated the capability get the line (the spec: MUST NOT forward it to
 * others); the redacter gets its own back with echo-message, within a labeled reply if any.
 */
import type { Delivery, RedactEvent } from '../cluster/events.js';
import { FencedError } from '../cluster/nodes.js';
import type { UserRecord } from '../cluster/state.js';
import { foldCase } from '../protocol/index.js';
import { REDACTION_CAP } from './caps.js';
import { failError } from './errors.js';
import { Outgoing } from './outgoing.js';
import type { Room } from './room.js';
import type { Server } from './server.js';
import type { Session } from './session.js';

/** What the redacter asked, checked and cut to fit the line (commands/redact.ts). */
export interface Redaction {
  /** The target as the redacter wrote it. */
  target: string;
  msgid: string;
  reason: string | null;
}

const NOT_ANNOUNCED = 'The message was deleted from history, but the network could not be told right now';

/** `:<redacter> REDACT <target> <msgid> [<reason>]` with the log's time and the redacter's account. */
function redactLine(source: string, account: string | null, time: number, target: string, msgid: string, reason: string | null): Outgoing {
  const tags: Record<string, string> = { time: new Date(time).toISOString() };
  if (account) tags.account = account;
  return new Outgoing({ tags, source, command: 'REDACT', params: reason === null ? [target, msgid] : [target, msgid, reason] });
}

/** The redacter's own connection with echo-message, and its other connections (multiclient.ts), see it. */
function echo(sender: Session, out: Outgoing): void {
  sender.echo(out, undefined, REDACTION_CAP);
}

function eventOf(server: Server, session: Session, target: string, redaction: Redaction): RedactEvent {
  return {
    v: 1, origin: server.cluster.nodes.id, kind: 'redact', from: session.uid, source: session.prefix, account: session.account,
    target, msgid: redaction.msgid, reason: redaction.reason,
  };
}

/** Where a direct message's redaction goes: the recipient here, on another node, or nobody online. */
export type DirectRecipient = { local: Session } | { remote: UserRecord; account: string } | null;

/**
 * Publishes a redaction into the room's log (`key`, the folded name). Resolves once this node
 * has applied it, so the echo is inside the redacter's labeled reply and before its next line.
 */
export async function announceRoomRedaction(server: Server, session: Session, key: string, redaction: Redaction): Promise<void> {
  let seq: number;
  let time: number;
  try {
    ({ seq, time } = await server.cluster.bus.publish(key, eventOf(server, session, redaction.target, redaction)));
  } catch (err) {
    return notAnnounced(server, redaction, err);
  }
  if (server.rooms.has(key)) {
    await server.roomCopies.applied(key, seq);
    return;
  }
  // No copy here (an IRC operator outside the room): no turn on this node brings the echo.
  echo(session, redactLine(session.prefix, session.account, time, redaction.target, redaction.msgid, redaction.reason));
}

/** The redaction's turn in the room's log: to the local members that negotiated the cap. */
export function deliverRoomRedaction(server: Server, room: Room, event: RedactEvent, time: number, own: boolean): void {
  const out = redactLine(event.source, event.account, time, event.target, event.msgid, event.reason);
  const sender = own ? server.users.localByUid(event.from) : undefined;
  for (const member of room.members.keys()) {
    if (member !== sender) member.deliverIf(REDACTION_CAP, out);
  }
  if (sender) echo(sender, out);
}

/**
 * A direct message's redaction to its recipient, and the echo. The caller names a recipient
 * only when it is logged in to the conversation's other account.
 */
export async function announceDirectRedaction(server: Server, session: Session, recipient: DirectRecipient, redaction: Redaction): Promise<void> {
  const { target, msgid, reason } = redaction;
  if (recipient && 'local' in recipient) {
    const to = recipient.local;
    to.deliverIf(REDACTION_CAP, redactLine(session.prefix, session.account, Date.now(), to.nick, msgid, reason));
  } else if (recipient) {
    const event: RedactEvent = { ...eventOf(server, session, recipient.remote.uid, redaction), recipientAccount: recipient.account };
    try {
      await server.cluster.bus.send(recipient.remote.node, event);
    } catch (err) {
      return notAnnounced(server, redaction, err);
    }
  }
  echo(session, redactLine(session.prefix, session.account, Date.now(), target, msgid, reason));
}

/** A redaction from another node arrived in this node's inbox: to its recipient, if it is still here. */
export function deliverDirectRedaction(server: Server, event: RedactEvent, delivery: Extract<Delivery, { type: 'event' }>): void {
  const recipient = server.users.localByUid(event.target);
  if (!recipient || !recipient.has(REDACTION_CAP)) return;
  // Logged out (or into another account) since it was sent: no longer of the conversation.
  if (event.recipientAccount === undefined || recipient.accountKey !== event.recipientAccount) return;
  recipient.deliver(redactLine(event.source, event.account, delivery.stamp.time, recipient.nick, event.msgid, event.reason));
}

/**
 * The store deleted the message but the bus did not take the event: the redacter is told
 * (FAIL ... TEMPORARILY_UNAVAILABLE), since the members were not. A fenced node says nothing:
 * it is dropping every client (node-events.ts).
 */
function notAnnounced(server: Server, redaction: Redaction, err: unknown): void {
  if (err instanceof FencedError) return;
  server.logger.warn('cluster: redaction not announced', { target: foldCase(redaction.target), err });
  throw failError('REDACT', 'TEMPORARILY_UNAVAILABLE', redaction.target, redaction.msgid, NOT_ANNOUNCED);
}
