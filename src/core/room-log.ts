/**
 * A room's log as this node applies it (bus-handler.ts hands every room delivery here): strictly
 * in sequence order, each entry once, and no stored-kind message before its `stored` notice
 * (room-messages.ts). An entry that must wait holds back every entry after it, state changes
 * included, so what a member sees is the log's order on every node.
 *
 * Most entries pass straight through; a queue exists only while something waits:
 * - another node's message until its publisher's `stored` notice (later in the same log);
 * - a `gap` (entries trimmed from the stream, or a log that restarted) until the missing
 *   messages are read from history, and for trimmed entries the room's state too: the copy is
 *   reconciled with it (room-resync.ts), since state changes were among what was lost;
 * - a resync (after Redis came back empty and the rooms were announced again) until the
 *   room's state is read;
 * - a message of a node that died before its notice: when the dead node's users' QUITs arrive
 *   (the reaper sequences them into the room), its held messages are looked up in the store,
 *   delivered if found, dropped if not (their sender never got an echo). Anything held for
 *   longer than HOLD_CHECK_MS is looked up the same way (a lost notice), dropped only once its
 *   node is gone.
 */
import type { ClusterEvent, Delivery, MessageEvent } from '../cluster/events.js';
import { REAP_QUIT_REASON } from '../cluster/nodes.js';
import type { StoredMessage } from '../store/store.js';
import { applyEvent } from './room-events.js';
import { recordRoomEvent } from './history/events.js';
import { readForResync, reconcile, type ResyncRead } from './room-resync.js';
import { deliverRoomMessage, deliverStoredMessage, isStoredMessage } from './room-messages.js';
import { deliverRoomRedaction } from './redactions.js';
import type { Room } from './room.js';
import type { Server } from './server.js';

/** How long an entry may wait for its notice before the store is asked. */
export const HOLD_CHECK_MS = 10_000;
/** Messages read from history to fill one gap. */
const GAP_FILL_LIMIT = 500;
const NODE_ID_LENGTH = 6;

interface Waiting {
  /** null: a resync (`resyncRoom`), not a log entry. */
  delivery: Delivery | null;
  since: number;
  /** A gap's messages from history once read (null while reading). */
  fill?: StoredMessage[] | null;
  /** The state to reconcile the copy with, once read (null while reading; absent: none needed). */
  read?: ResyncRead | null;
  /** Reconcile keeping other nodes' members the state lacks (resyncRoom). */
  keepAbsent?: boolean;
}

/** What a room's copy waits on; made only while something does. */
export class RoomLogQueue {
  readonly items: Waiting[] = [];
  /** Sequences known durable / given up, from notices or store lookups, until applied. */
  readonly durable = new Set<number>();
  readonly lost = new Set<number>();
  /** Store look-ups run one after another (the last one started, or null). */
  lookups: Promise<void> | null = null;
  /** Look-ups queued or running (the sweep adds none meanwhile). */
  looking = 0;
}

/** One delivery of a room's log; ignored when this node keeps no copy of the room. */
export function applyRoomDelivery(server: Server, delivery: Delivery, key: string): void {
  const room = server.rooms.get(key);
  if (!room) return;
  if (delivery.type === 'event') {
    const { event, stamp } = delivery;
    if (stamp.seq <= room.applied) return; // in the snapshot the copy began from
    if (event.kind === 'stored') noted(room, event.seqs, event.lost);
    else if (event.kind === 'quit' && event.reason === REAP_QUIT_REASON && room.queue) {
      lookUpHeld(server, room, event.uid.slice(0, NODE_ID_LENGTH), true);
    }
  } else if (delivery.reason === 'rewound') {
    // The entries that follow reuse sequences this copy applied already: take them from here.
    room.applied = delivery.from - 1;
    // Notices named sequences of the lost copy of the log; held messages are looked up instead.
    room.queue?.durable.clear();
    room.queue?.lost.clear();
  }
  if (room.queue === null && !waits(server, room, delivery)) {
    apply(server, room, delivery);
    return;
  }
  const item = enqueue(server, room, delivery);
  if (delivery.type === 'gap') {
    // Trimmed before the snapshot the copy began from: nothing of it is owed to anyone.
    if (delivery.reason === 'trimmed' && delivery.to !== null && delivery.to <= room.base) item.fill = [];
    else readGap(server, room, item, delivery.reason);
  }
  drain(server, room);
}

/**
 * Reconciles the copy with the room's shared state in its place in the log (after Redis came
 * back empty and the rooms were announced again: node-events.ts).
 */
export function resyncRoom(server: Server, room: Room, keepAbsent: boolean): void {
  const item = enqueue(server, room, null);
  item.keepAbsent = keepAbsent;
  readState(server, room, item);
}

function enqueue(server: Server, room: Room, delivery: Delivery | null): Waiting {
  const queue = (room.queue ??= new RoomLogQueue());
  const item: Waiting = { delivery, since: Date.now() };
  queue.items.push(item);
  server.roomLogs.add(room);
  return item;
}

/** This node's own message, stored before its turn, was committed or refused (room-messages.ts). */
export function settleOwn(server: Server, key: string, seq: number, stored: boolean): void {
  const room = server.rooms.get(key);
  if (!room) return;
  noted(room, stored ? [seq] : [], stored ? [] : [seq]);
  if (room.queue) {
    server.roomLogs.add(room);
    drain(server, room);
  }
}

function noted(room: Room, seqs: number[], lost: number[]): void {
  // Notices for messages already delivered (the publisher's own node) need nothing.
  if (room.queue === null && !seqs.some((seq) => seq > room.applied) && !lost.some((seq) => seq > room.applied)) return;
  const queue = (room.queue ??= new RoomLogQueue());
  for (const seq of seqs) if (seq > room.applied) queue.durable.add(seq);
  for (const seq of lost) if (seq > room.applied) queue.lost.add(seq);
}

function waits(server: Server, room: Room, item: Delivery | null, waiting?: Waiting): boolean {
  if (item === null || item.type === 'gap') return waiting === undefined || waiting.fill === null || waiting.read === null;
  const { event, stamp } = item;
  if (event.kind !== 'message' || !isStoredMessage(event)) return false;
  // The publisher's own node waits only for a message it stored before its turn, until that
  // commit ends (room-messages.ts); otherwise its flush hook stores first.
  if (item.own && !server.roomMessages.pendingEarly(stamp.msgid)) return false;
  const queue = room.queue;
  return !queue || (!queue.durable.has(stamp.seq) && !queue.lost.has(stamp.seq));
}

/** Applies queued entries from the front until one must wait. */
function drain(server: Server, room: Room): void {
  const queue = room.queue;
  if (!queue) return;
  let taken = 0;
  while (taken < queue.items.length) {
    const item = queue.items[taken]!;
    if (waits(server, room, item.delivery, item)) break;
    taken++;
    apply(server, room, item, queue.items[taken]?.delivery ?? undefined);
    if (room.queue !== queue || !server.rooms.has(room.key)) return; // the copy was dropped
  }
  if (taken > 0) queue.items.splice(0, taken);
  if (queue.items.length === 0 && queue.durable.size === 0 && queue.lost.size === 0) {
    room.queue = null;
    server.roomLogs.delete(room);
  }
}

function apply(server: Server, room: Room, entry: Delivery | Waiting, next?: Delivery): void {
  const item = 'since' in entry ? entry : undefined;
  const delivery = item ? item.delivery : (entry as Delivery);
  try {
    if (delivery === null) {
      if (item!.read) reconcile(server, room, item!.read, item!.keepAbsent ?? false);
    } else if (delivery.type === 'gap') {
      applyGap(server, room, delivery, item?.fill ?? [], next);
      if (item?.read) reconcile(server, room, item.read, false);
    } else {
      const { event, stamp } = delivery;
      const beforeCopy = stamp.seq <= room.base;
      if (event.kind === 'message') {
        // Before the copy's snapshot: waited for (until stored), delivered to no one.
        if (beforeCopy) forget(room, stamp.seq);
        else applyMessage(server, room, event, delivery);
      }
      // A redaction (redactions.ts): the store deleted the message before it was published.
      else if (event.kind === 'redact') {
        if (!beforeCopy) deliverRoomRedaction(server, room, event, stamp.time, delivery.own);
      }
      // A state change a snapshot held already is not applied twice.
      else if (event.kind !== 'stored' && stamp.seq > room.stateSeq) {
        // draft/event-playback: the publishing node stores the event at its turn (history/events.ts).
        if (delivery.own && !beforeCopy) recordRoomEvent(server, room, event as ClusterEvent, stamp);
        applyEvent(server, room, event as ClusterEvent, delivery);
      }
      if (event.kind === 'message' || beforeCopy) room.lastMessageTime = stamp.time;
      room.applied = stamp.seq;
      room.appliedTime = stamp.time;
    }
  } catch (err) {
    server.logger.error('cluster: applying a room log entry failed', { room: room.key, err });
    if (delivery?.type === 'event') room.applied = delivery.stamp.seq;
  }
  server.roomCopies.advanced(room);
  server.roomCopies.dropIfUnused(room.key);
}

/** Takes a message's notices off the queue: what they said of it. */
function forget(room: Room, seq: number): 'durable' | 'lost' | 'unknown' {
  const queue = room.queue;
  if (!queue) return 'unknown';
  const durable = queue.durable.delete(seq);
  if (queue.lost.delete(seq)) return 'lost';
  return durable ? 'durable' : 'unknown';
}

function applyMessage(server: Server, room: Room, event: MessageEvent, delivery: Extract<Delivery, { type: 'event' }>): void {
  const { stamp } = delivery;
  const noticed = forget(room, stamp.seq);
  // Refused by the store (or never stored by a node that died): no one gets it.
  if (noticed === 'lost') return;
  const durable = noticed === 'durable';
  // An own message durable before its turn was stored when published: not recorded again.
  deliverRoomMessage(server, room, event, stamp.seq, stamp.msgid, stamp.time, delivery.own, delivery.own && durable);
}

/** A gap: the entries are gone from the stream, so its messages come from history. */
function applyGap(server: Server, room: Room, gap: Extract<Delivery, { type: 'gap' }>, fill: StoredMessage[], next: Delivery | undefined): void {
  // Only what lies before the next entry the log still has: that one and later come from the log.
  const before = next?.type === 'event' ? next.stamp.time : Infinity;
  for (const message of fill) {
    if (message.time > room.lastMessageTime && message.time < before) {
      deliverStoredMessage(server, room, message);
      room.lastMessageTime = message.time;
    }
  }
  // Changes of state in a trimmed gap: the reconcile that follows (apply). After a restart the
  // rooms are announced again, and resyncRoom reconciles each copy then.
  if (gap.reason === 'restarted') {
    // Sequences start again from 1: whoever waited for one of the old epoch waits no longer.
    server.roomCopies.releaseWaiters(room);
    room.applied = 0;
    room.stateSeq = 0;
  } else if (gap.reason === 'rewound') {
    // New entries take the sequences from `from` on: applied goes back to just before them.
    room.applied = gap.from - 1;
    room.stateSeq = 0;
  } else if (gap.to !== null) room.applied = gap.to;
}

function readGap(server: Server, room: Room, item: Waiting, reason: Extract<Delivery, { type: 'gap' }>['reason']): void {
  // Trimmed entries took state changes with them; a rewound log's shared state went back too.
  if (reason !== 'restarted') readState(server, room, item);
  if (reason === 'rewound') {
    // Its messages were delivered already (and are in history): nothing to fill.
    item.fill = [];
    return;
  }
  item.fill = null;
  const after = room.lastMessageTime;
  server.history
    .read()
    .then((store) => store.after(room.key, { time: after }, GAP_FILL_LIMIT))
    .catch((err: unknown) => {
      server.logger.warn('cluster: filling a room log gap from history failed', { room: room.key, err });
      return [] as StoredMessage[];
    })
    .then((messages) => {
      item.fill = messages;
      drain(server, room);
    });
}

function readState(server: Server, room: Room, item: Waiting): void {
  item.read = null;
  readForResync(server, room)
    .catch((err: unknown) => {
      // Without the state the copy keeps what it has; the log goes on.
      server.logger.warn('cluster: reading a room to reconcile its copy failed', { room: room.key, err });
      return undefined;
    })
    .then((read) => {
      if (read) item.read = read;
      else delete item.read;
      drain(server, room);
    });
}

/**
 * Held messages of `node` (all held ones when null) looked up in the store: found ones are
 * durable, their notice was lost. Not found: given up when `dead` (never acknowledged to anyone),
 * else left to wait.
 */
function lookUpHeld(server: Server, room: Room, node: string | null, dead: boolean): void {
  const queue = room.queue;
  if (!queue) return;
  const run = async () => {
    const held = queue.items.filter((item) => {
      const d = item.delivery;
      return d?.type === 'event' && d.event.kind === 'message' && (node === null || d.event.origin === node) && waits(server, room, d);
    });
    if (held.length === 0) return;
    try {
      const store = await server.history.read();
      for (const item of held) {
        const d = item.delivery as Extract<Delivery, { type: 'event' }>;
        // Times are strictly increasing within a room: the first message after time - 1 is it, if stored.
        const [found] = await store.after(room.key, { time: d.stamp.time - 1 }, 1);
        if (found?.msgid === d.stamp.msgid) queue.durable.add(d.stamp.seq);
        else if (dead) queue.lost.add(d.stamp.seq);
      }
    } catch (err) {
      server.logger.warn('cluster: looking up held room messages failed', { room: room.key, err });
    }
    // The next look-up of what still waits is HOLD_CHECK_MS from now.
    const first = queue.items[0];
    if (first) first.since = Date.now();
    drain(server, room);
  };
  queue.looking++;
  queue.lookups = (queue.lookups ?? Promise.resolve()).then(run).finally(() => {
    queue.looking--;
  });
}

/**
 * Server.sweep: rooms whose first waiting entry is older than HOLD_CHECK_MS ask the store; a
 * message whose node no longer holds a lease is then given up if not found.
 */
export async function checkHeld(server: Server, rooms: Iterable<Room>, now: number): Promise<void> {
  const late = [...rooms].filter((room) => {
    const first = room.queue?.items[0];
    return first !== undefined && first.delivery?.type === 'event' && room.queue!.looking === 0 && now - first.since > HOLD_CHECK_MS;
  });
  if (late.length === 0) return;
  const live = new Set(await server.cluster.nodes.peers().catch(() => [] as string[]));
  for (const room of late) {
    const first = room.queue!.items[0]!.delivery as Extract<Delivery, { type: 'event' }>;
    lookUpHeld(server, room, first.event.origin, live.size > 0 && !live.has(first.event.origin));
  }
}

/** A node this one reaped: held messages it published are looked up now. */
export function publisherReaped(server: Server, node: string): void {
  for (const room of server.roomLogs) lookUpHeld(server, room, node, true);
}
