/**
 * PRIVMSG, NOTICE and TAGMSG to a room, network-wide (issue 14 step 2, point 4).
 *
 * The sender's node publishes the message into the room's log (bus.ts: one order for every
 * node, and the msgid and time every node shows). Every follower, the sender's node too,
 * delivers it to its local members from the log (room-log.ts), in log order. Parley's rule that
 * a message reaches a client only once it is durable holds across nodes this way:
 *
 * 1. the sender's node publishes and gets the stamp (sequence, msgid, time);
 * 2. when the log gives it its turn there (at once, unless an earlier entry waits), that node
 *    adds it under the stamp's msgid and time to its History batch (group commit) and hands it
 *    to its local members: the batch is committed before any of that output reaches a socket
 *    (the before-flush hook of transport/flush.ts, as for every message on one node), and a
 *    batch the store refuses is withdrawn from the output with FAIL to its senders;
 * 3. once that batch is committed it publishes one small `stored` event per room into the same
 *    log, naming the sequences made durable (or `lost`, when the store refused them);
 * 4. every other node holds a stored-kind message until its notice arrives, and delivers
 *    strictly in sequence order: a held message holds back everything after it.
 * The sender's node does not hold its own messages until their notice: its flush hook already
 * keeps them from any socket until they are stored, and so a message reaches its local members
 * in the same turn as before, one round trip sooner.
 * A message whose publish returns before its turn (an earlier entry of the log waits, e.g.
 * another node's message for its notice) is stored at once, not at its turn: otherwise two
 * nodes whose users talk in turn in one room would each wait for the other's commit and notice
 * before committing their own (a chain of round trips per message, which under load grew into
 * seconds). Its turn then waits for that commit only (room-log.ts), and delivers it without
 * storing it again. History may so hold a message a moment before an earlier one of another
 * node; CHATHISTORY does not show past what its node has applied (commands/chathistory.ts).
 * If the publishing node dies with messages held, followers look each one up in the store and
 * deliver those found (their notice was lost with the node), drop the rest (never acknowledged).
 * TAGMSG and STATUSMSG (`@#room`) are not stored, so they are not held.
 */
import { foldCase } from '../protocol/index.js';
import type { MessageEvent, StoredEvent } from '../cluster/events.js';
import { FencedError } from '../cluster/nodes.js';
import type { StoredMessage } from '../store/store.js';
import { failError } from './errors.js';
import { settleOwn } from './room-log.js';
import { NOT_STORED } from './history/history.js';
import { recordRoomTagmsg } from './history/events.js';
import { Outgoing } from './outgoing.js';
import { MEMBER_OP, MEMBER_VOICE, type Room } from './room.js';
import type { Server } from './server.js';
import type { Session } from './session.js';

type RelayCommand = MessageEvent['command'];

/** How long a publish of unknown outcome waits to learn it: past a lease (5 s) the node is fenced anyway. */
const OUTCOME_WAIT_MS = 6000;

const NO_TAGS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** Is this message held until stored? Stored are PRIVMSG and NOTICE to the whole room. */
export function isStoredMessage(event: MessageEvent): boolean {
  return event.command !== 'TAGMSG' && event.target[0] !== '@' && event.target[0] !== '+';
}

interface Unstored {
  room: string;
  seq: number;
  /** Its command answers a refusal itself (labeled). */
  labeled: boolean;
  /** Stored when its publish returned, before its turn: who to tell if the store refuses it. */
  early?: { sender: Session; command: RelayCommand; target: string; message: StoredMessage; conn: number | undefined };
}

export class RoomMessages {
  /** Messages this node published and recorded, by msgid, until their batch is committed. */
  private readonly unstored = new Map<string, Unstored>();
  /** Labeled messages: their command answers a refusal itself, with the label. */
  private readonly labeled = new WeakSet<MessageEvent>();
  /** Msgids of labeled messages the store refused, until their command has answered. */
  private readonly refused = new Set<string>();
  /** Publishes numbered (MessageEvent `pub`). */
  private publishes = 0;
  /** `pub` of own messages whose publish had an unknown outcome, until the log shows them or not. */
  private readonly uncertain = new Set<number>();

  constructor(private readonly server: Server) {
    server.history.onCommitted((messages, stored) => this.committed(messages, stored));
  }

  /**
   * Publishes a message from `session` to `room` (`target` as the client wrote it, with any
   * STATUSMSG prefix; `text` already cut to fit). No await for an unlabeled message: the echo
   * comes from the log. A labeled one resolves once its echo is delivered, so the labeled reply
   * holds it.
   */
  publish(session: Session, room: Room, command: RelayCommand, target: string, text: string, tags: Record<string, string> | undefined, labeled: boolean): Promise<void> | void {
    const { server } = this;
    const event: MessageEvent = {
      v: 1, origin: server.cluster.nodes.id, kind: 'message', command, from: session.uid, source: session.prefix,
      target, text, tags: tags ?? NO_TAGS, account: session.account, pub: ++this.publishes,
    };
    if (session.attached !== null && session.via !== null) event.conn = session.via.id;
    // The sender's node stores it when its turn comes: refused here while that store is behind.
    if (isStoredMessage(event)) server.history.refuseIfBehind(command, target);
    // Before publishing: the memory bus may hand the event to its turn inside publish.
    if (labeled) this.labeled.add(event);
    const published = server.cluster.bus.publish(room.key, event);
    if (isStoredMessage(event)) published.then((stamp) => this.recordEarly(room.key, event, stamp.seq, stamp.msgid, stamp.time, session), () => {});
    if (!labeled) {
      published.catch((err: unknown) => this.notPublished(session, room.key, event, err));
      return;
    }
    // Labeled: the reply holds the echo, so its outcome is known first (committed at once),
    // and a refusal is this command's FAIL, with the label.
    return published.then(
      async (stamp) => {
        await server.roomCopies.applied(room.key, stamp.seq);
        await server.history.flush();
        if (this.refused.delete(stamp.msgid)) throw failError(command, 'TEMPORARILY_UNAVAILABLE', target, NOT_STORED);
      },
      (err: unknown) => this.notPublished(session, room.key, event, err),
    );
  }

  /**
   * This node's own message has its turn: into the History batch (before anyone is given it;
   * `out` is withdrawn from every output if the batch fails, and its sender gets FAIL).
   */
  record(room: Room, event: MessageEvent, seq: number, msgid: string, time: number, out: Outgoing, sender: Session | undefined): void {
    const message: StoredMessage = {
      msgid, time, conversation: room.key, source: event.source, account: sender?.accountKey ?? (event.account ? foldCase(event.account) : null),
      command: event.command as StoredMessage['command'], target: event.target, text: event.text, tags: event.tags,
    };
    const labeled = this.labeled.has(event);
    this.unstored.set(msgid, { room: room.key, seq, labeled });
    this.server.history.record(message, sender ? out : null, sender ?? null, labeled);
  }

  /** True while `msgid` was stored before its turn and its commit has not ended: its turn waits. */
  pendingEarly(msgid: string): boolean {
    return this.unstored.get(msgid)?.early !== undefined;
  }

  /** The publish returned: store the message now unless its turn came first (room-log.ts applied it). */
  private recordEarly(key: string, event: MessageEvent, seq: number, msgid: string, time: number, sender: Session): void {
    const copy = this.server.rooms.get(key);
    // (A turn before the copy's snapshot delivers and records nothing: room-log.ts.)
    if ((copy && copy.applied >= seq && seq > copy.base) || this.unstored.has(msgid)) return;
    // A copy dropped meanwhile means no turn will come here: stored anyway, as its followers wait for it.
    // (Recorded twice in a rare race, the store keeps one: appends ignore a msgid they have.)
    const message: StoredMessage = {
      msgid, time, conversation: key, source: event.source, account: sender.accountKey,
      command: event.command as StoredMessage['command'], target: event.target, text: event.text, tags: event.tags,
    };
    const labeled = this.labeled.has(event);
    this.unstored.set(msgid, { room: key, seq, labeled, early: { sender, command: event.command, target: event.target, message, conn: event.conn } });
    this.server.history.record(message, null, sender, labeled);
  }

  /** A History batch ended: tell each room's followers which of its sequences are durable. */
  private committed(messages: readonly StoredMessage[], stored: boolean): void {
    let byRoom: Map<string, number[]> | null = null;
    for (const message of messages) {
      const entry = this.unstored.get(message.msgid);
      if (!entry) continue;
      this.unstored.delete(message.msgid);
      let seqs = (byRoom ??= new Map()).get(entry.room);
      if (!seqs) byRoom.set(entry.room, (seqs = []));
      seqs.push(entry.seq);
      if (!stored && entry.labeled) this.refused.add(message.msgid);
      if (entry.early) this.settledEarly(entry, stored);
    }
    if (!byRoom) return;
    for (const [room, seqs] of byRoom) {
      const notice: StoredEvent = { v: 1, origin: this.server.cluster.nodes.id, kind: 'stored', seqs: stored ? seqs : [], lost: stored ? [] : seqs };
      // A notice that does not arrive is made up by the followers' store lookup (room-log.ts).
      this.server.cluster.bus.publish(room, notice).catch((err: unknown) => {
        if (!(err instanceof FencedError)) this.server.logger.warn('cluster: stored notice not published', { room, err });
      });
    }
  }

  /** A message stored before its turn: its turn may go on (delivered, or dropped if refused). */
  private settledEarly(entry: Unstored, stored: boolean): void {
    settleOwn(this.server, entry.room, entry.seq, stored);
    const { sender, command, target, message } = entry.early!;
    if (sender.state === 'closing') return;
    // Its output was never built, so the History writer cannot withdraw it and answer: done here.
    if (!stored && !entry.labeled && command !== 'NOTICE') {
      sender.standardReply('FAIL', [command, 'TEMPORARILY_UNAVAILABLE', target, NOT_STORED]);
    }
    // A sender from outside the room (-n) on a node without a copy: no turn here gives the echo.
    if (stored && !this.server.rooms.has(entry.room)) sender.echo(echoOf(message), actingConnection(sender, entry.early!.conn));
  }

  /** Publishes of this node whose outcome was unknown, since it started. */
  unknownOutcomes = 0;

  /** Own messages whose publish had an unknown outcome and that are still being looked for. */
  get awaitingOutcome(): number {
    return this.uncertain.size;
  }

  /** An own message read back from the log: if its publish had an unknown outcome, now it is known. */
  arrived(event: MessageEvent): void {
    if (this.uncertain.size > 0 && event.pub !== undefined) this.uncertain.delete(event.pub);
  }

  /**
   * A publish failed other than fenced: the outcome is unknown (the reply may be what was lost,
   * bus.ts). The room's log is read to its end once Redis answers again: if the message is in
   * it, it was delivered from there like any other (its echo too) and nothing is said; if not,
   * it was not sent, and the sender is told so. Without an answer in time, that it may not be.
   */
  private async notPublished(session: Session, room: string, event: MessageEvent, err: unknown): Promise<void> {
    if (err instanceof FencedError) return; // the node drops every client (node-events.ts)
    const { command, target } = event;
    this.server.logger.warn('cluster: room message publish failed; looking for it in the log', { room, err });
    this.uncertain.add(event.pub!);
    this.unknownOutcomes++;
    const known = await this.server.cluster.bus.caughtUp(room, OUTCOME_WAIT_MS).catch(() => false);
    if (!this.uncertain.delete(event.pub!)) return; // it was sequenced after all
    this.server.logger.warn('cluster: room message not in the log', { room, known });
    if (command === 'NOTICE') return;
    const text = known ? 'Message not sent: the network was not reachable' : 'Message not confirmed: the network is not reachable right now; it may still be delivered';
    this.server.replyError(session, command, failError(command, 'TEMPORARILY_UNAVAILABLE', target, text));
  }
}

/**
 * A room message's turn in the log: to every local member (echo-message for its sender), with
 * the stamp's msgid and time, so every node and history show the same. The hot path: one
 * Outgoing, the same bytes per capability view, nothing allocated per member.
 */
export function deliverRoomMessage(server: Server, room: Room, event: MessageEvent, seq: number, msgid: string, time: number, own: boolean, stored = false): void {
  const tags: Record<string, string> = { ...event.tags, time: new Date(time).toISOString(), msgid };
  if (event.account) tags.account = event.account;
  const out = new Outgoing({
    tags,
    source: event.source,
    command: event.command,
    params: event.command === 'TAGMSG' ? [event.target] : [event.target, event.text],
  });
  const sender = own ? server.users.localByUid(event.from) : undefined;
  if (own) server.roomMessages.arrived(event);
  // `stored`: committed before its turn (RoomMessages.recordEarly), so not recorded again.
  if (own && isStoredMessage(event) && !stored) server.roomMessages.record(room, event, seq, msgid, time, out, sender);
  // A reaction or reply (TAGMSG) is kept as an event for draft/event-playback (history/events.ts).
  else if (own && event.command === 'TAGMSG') recordRoomTagmsg(server, room, event, { msgid, time }, sender?.accountKey ?? (event.account ? foldCase(event.account) : null));
  const status = event.target[0];
  let recipients = 0;
  if (status === '@' || status === '+') {
    // STATUSMSG: @#room reaches ops, +#room reaches voiced members and ops.
    const needed = status === '@' ? MEMBER_OP : MEMBER_OP | MEMBER_VOICE;
    for (const [member, flags] of room.members) {
      if (member !== sender && (flags & needed) !== 0) {
        member.deliver(out);
        recipients++;
      }
    }
  } else {
    room.broadcast(out, sender);
    recipients = room.members.size - (sender !== undefined && room.members.has(sender) ? 1 : 0);
  }
  // Counted once per room, not per recipient (the hot path).
  server.metrics.relayed(recipients);
  if (sender) sender.echo(out, actingConnection(sender, event.conn));
}

/** The sender's connection a message came from (`conn`: multiclient.ts), or null once it has gone. */
function actingConnection(sender: Session, conn: number | undefined): Session | null {
  return conn === undefined ? sender : sender.connectionWithId(conn);
}

/** A stored message as its sender's echo shows it. */
function echoOf(message: StoredMessage): Outgoing {
  const tags: Record<string, string> = { ...message.tags, time: new Date(message.time).toISOString(), msgid: message.msgid };
  if (message.account) tags.account = message.account;
  return new Outgoing({ tags, source: message.source, command: message.command, params: [message.target, message.text] });
}

/** The history rows of a message, as a gap fill delivers them (room-log.ts). */
export function deliverStoredMessage(server: Server, room: Room, message: StoredMessage): void {
  const tags: Record<string, string> = { ...message.tags, time: new Date(message.time).toISOString(), msgid: message.msgid };
  const out = new Outgoing({ tags, source: message.source, command: message.command, params: [message.target, message.text] });
  room.broadcast(out);
  server.metrics.relayed(room.members.size);
}
