/**
 * Room events into history, for IRCv3 draft/event-playback (CHATHISTORY returns them, in order
 * with the messages, to clients that negotiated the cap; store.ts `HistoryQuery.events`).
 *
 * Which node stores an event: the one that published it into the room's log, at the event's
 * turn there (room-log.ts calls `recordRoomEvent` for an own entry, before the copy applies
 * it), under the stamp's msgid and time. The log gives one order to every node, and stamps are
 * strictly increasing within it, so history's (time, msgid) order is the log's order
 * network-wide, messages and events alike. Events are not held until stored as messages are
 * (room-messages.ts): an event is state that every member sees at once; if its commit fails it
 * is missing from history only (its line was not withdrawn).
 *
 * Stored: JOIN, PART, KICK, QUIT (one row per room, each room's log has its own QUIT), MODE and
 * TOPIC of the room, NICK (one row per room) and TAGMSG to the whole room carrying a client tag
 * other than typing notifications (`+draft/react`, `+draft/reply`...). Not stored: INVITE,
 * AWAY, ACCOUNT, SETNAME, CHGHOST and STATUSMSG (`@#room`) lines.
 *
 * Bounded: at most `history.events_per_room_minute` events per room and minute are stored by a
 * node (a token bucket per room: that many at once, then refilled over the minute); beyond it
 * events are still shown live but not stored. Flapping JOIN/PART or a QUIT into many rooms thus
 * costs each room at most that many rows a minute, on top of the command throttle every
 * session has. Events count against retention as messages do (they are rows of the same table).
 */
import { fitLastParam, foldCase } from '../../protocol/index.js';
import type { ClusterEvent, MessageEvent, Stamp } from '../../cluster/events.js';
import type { EventCommand, StoredMessage } from '../../store/store.js';
import type { Room } from '../room.js';
import type { Server } from '../server.js';

/** ircv3.net/specs/extensions/chathistory#event-playback (draft). */
export const EVENT_PLAYBACK_CAP = 'draft/event-playback';

/** Client tags that are not worth keeping: typing notifications are ephemeral by their spec. */
const EPHEMERAL_TAGS = new Set(['+typing', '+draft/typing']);

/** Buckets kept before idle full ones are forgotten. */
const MAX_BUCKETS = 10_000;

interface Bucket {
  tokens: number;
  at: number;
}

/** Per room (folded name): events this node may still store, refilled over a minute. */
export class EventBudget {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  take(room: string): boolean {
    const now = this.now();
    let bucket = this.buckets.get(room);
    if (!bucket) {
      if (this.buckets.size >= MAX_BUCKETS) this.forgetFull(now);
      this.buckets.set(room, (bucket = { tokens: this.perMinute, at: now }));
    } else {
      bucket.tokens = Math.min(this.perMinute, bucket.tokens + ((now - bucket.at) * this.perMinute) / 60_000);
      bucket.at = now;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens--;
    return true;
  }

  private forgetFull(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) * this.perMinute) / 60_000 >= this.perMinute) this.buckets.delete(key);
    }
  }
}

const budgets = new WeakMap<Server, EventBudget>();

function budgetOf(server: Server): EventBudget {
  let budget = budgets.get(server);
  if (!budget) budgets.set(server, (budget = new EventBudget(server.config.history.events_per_room_minute, server.clock)));
  return budget;
}

function store(server: Server, room: Room, stamp: Pick<Stamp, 'msgid' | 'time'>, source: string, account: string | null, command: EventCommand, params: string[], tags: Record<string, string> = {}): void {
  if (!budgetOf(server).take(room.key)) return;
  const message: StoredMessage = {
    msgid: stamp.msgid, time: stamp.time, conversation: room.key, source, account, command,
    target: room.name, text: '', tags, params: fitLastParam(source, command, params),
  };
  server.history.record(message);
}

/** The account key of a member of the room's copy (local or on another node), or null. */
function memberAccount(room: Room, uid: string | undefined): string | null {
  if (uid === undefined) return null;
  const local = room.localMember(uid);
  if (local) return local.accountKey;
  const remote = room.remote.get(uid)?.account;
  return remote ? foldCase(remote) : null;
}

/**
 * An entry of a room's log that this node published, at its turn, before the copy applies it
 * (the QUIT's source is read from the copy's member). Only what shows a line is stored.
 */
export function recordRoomEvent(server: Server, room: Room, event: ClusterEvent, stamp: Stamp): void {
  if (!server.config.history.events) return;
  switch (event.kind) {
    case 'join': {
      const present = event.origin === server.cluster.nodes.id ? room.localMember(event.uid) !== undefined : room.remote.has(event.uid);
      if (present) return; // already a member: no line is shown
      return store(server, room, stamp, event.source, event.account ? foldCase(event.account) : null, 'JOIN', [room.name]);
    }
    case 'part': {
      if (!room.localMember(event.uid) && !room.remote.has(event.uid)) return;
      if (event.by === undefined) {
        const params = event.reason === '' ? [room.name] : [room.name, event.reason];
        return store(server, room, stamp, event.source, memberAccount(room, event.uid), 'PART', params);
      }
      const nick = event.source.split('!')[0]!;
      return store(server, room, stamp, event.by, memberAccount(room, event.kicker), 'KICK', [room.name, nick, event.reason]);
    }
    case 'quit': {
      const local = room.localMember(event.uid);
      const remote = local ? undefined : room.remote.get(event.uid);
      if (!local && !remote) return;
      const source = local ? local.prefix : `${remote!.nick}!${remote!.user}@${remote!.host}`;
      return store(server, room, stamp, source, memberAccount(room, event.uid), 'QUIT', [event.reason]);
    }
    case 'nick':
      if (!room.localMember(event.uid) && !room.remote.has(event.uid)) return;
      return store(server, room, stamp, event.source, memberAccount(room, event.uid), 'NICK', [event.nick]);
    case 'room':
      if (!event.command || !event.params) return;
      return store(server, room, stamp, event.by, event.account ? foldCase(event.account) : null, event.command, event.params);
    default:
      return;
  }
}

/**
 * A TAGMSG to the whole room that this node published, at its turn (room-messages.ts): stored
 * when it carries a client tag worth keeping (a reaction, a reply), never a typing notification.
 */
export function recordRoomTagmsg(server: Server, room: Room, event: MessageEvent, stamp: Pick<Stamp, 'msgid' | 'time'>, account: string | null): void {
  if (!server.config.history.events || event.command !== 'TAGMSG') return;
  if (event.target[0] === '@' || event.target[0] === '+') return;
  let keep = false;
  for (const tag in event.tags) if (tag.startsWith('+') && !EPHEMERAL_TAGS.has(tag)) keep = true;
  if (!keep) return;
  const tags: Record<string, string> = {};
  for (const tag in event.tags) if (tag.startsWith('+') && !EPHEMERAL_TAGS.has(tag)) tags[tag] = event.tags[tag]!;
  store(server, room, stamp, event.source, account, 'TAGMSG', [event.target], tags);
}
