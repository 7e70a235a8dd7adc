/**
 * draft/metadata-2: who hears of metadata, and the `metadata` batches.
 *
 * A change is published on the network log once the store has it (commands/metadata.ts), so
 * every node, this one included, applies it here at its turn in the log and tells its own
 * sessions. Who is told (the spec's "Notifications"): sessions that negotiated the cap and
 * subscribed to the key, never the session that made the change, and only if they
 * - are another connection logged in to the same account (the spec's "themselves": the
 *   target shown is their own nick, whose metadata this is too),
 * - share a room with the user on this node, or
 * - MONITOR the user's nick.
 * Cost: one pass over this node's sessions per change (as WALLOPS); changes are rate-limited
 * per connection (limits.metadata_sets_per_minute), so this never runs at message rates.
 *
 * Lines come from the server name, not the user's prefix: a key of 64 bytes and a value of 300
 * fit in 512 bytes after any server name, where a long `nick!user@host` could cut the value.
 */
import { foldCase, type IrcMessage } from '../../protocol/index.js';
import * as N from '../../protocol/numerics.js';
import type { MetadataEvent } from '../../cluster/events.js';
import type { MetadataEntry } from '../../store/store.js';
import { METADATA_CAP } from '../caps.js';
import { sharesRoom } from '../network-log.js';
import { line } from '../room-events.js';
import type { Room } from '../room.js';
import type { Server } from '../server.js';
import type { Session } from '../session.js';

/** Visibility of every key: Parley has no private keys (the spec's `*`, as Ergo sends). */
export const VISIBLE = '*';

/**
 * A JOIN into a room with more members than this gets RPL_METADATASYNCLATER instead of the
 * members' metadata (the spec's "Postponed synchronization"); METADATA <room> SYNC sends it.
 */
export const JOIN_SYNC_MAX_MEMBERS = 500;
/** The RetryAfter of that 774, seconds. */
export const SYNC_RETRY_SECONDS = 5;

/** Whether `session` wants to hear about `key`. */
export function subscribed(session: Session, key: string): boolean {
  return session.has(METADATA_CAP) && (session.metadataSubs?.has(key) ?? false);
}

/** A change from the network log, told to this node's sessions (see the module comment). */
export function applyMetadataEvent(server: Server, event: MetadataEvent, time: number): void {
  if (!Array.isArray(event.changes) || typeof event.account !== 'string') return;
  const wants = (user: Session, key: string) => user.uid !== event.by && subscribed(user, key);
  for (const { key, value } of event.changes) {
    const params = (nick: string) => (value === null ? [nick, key, VISIBLE] : [nick, key, VISIBLE, value]);
    // The account's own connections: their own nick is the target.
    for (const own of server.accounts.sessionsByAccount.get(event.account) ?? []) {
      if (own.registered && wants(own, key)) own.deliver(line(server.name, 'METADATA', params(own.nick), time, null));
    }
    const out = line(server.name, 'METADATA', params(event.nick), time, null);
    server.deliverToUsers(out, (user) =>
      user.accountKey !== event.account && wants(user, key) && (sharesRoom(server, user, event.uid) || server.monitor.watches(user, event.nick)),
    );
  }
}

/** `lines` inside `BATCH +id metadata <target>` when the client negotiated batch, else as they are. */
export function sendMetadataBatch(server: Server, session: Session, target: string, lines: IrcMessage[]): void {
  if (!session.has('batch')) {
    for (const message of lines) session.sendMessage(message);
    return;
  }
  const id = server.nextBatchId();
  session.sendMessage({ source: server.name, command: 'BATCH', params: [`+${id}`, 'metadata', target] });
  for (const message of lines) session.sendMessage({ ...message, tags: { ...message.tags, batch: id } });
  session.sendMessage({ source: server.name, command: 'BATCH', params: [`-${id}`] });
}

/** A METADATA line from the server about `nick`. */
export function metadataLine(server: Server, nick: string, entry: MetadataEntry): IrcMessage {
  return { source: server.name, command: 'METADATA', params: [nick, entry.key, VISIBLE, entry.value] };
}

/**
 * The registration burst (before the MOTD): the client's own metadata in a `metadata` batch
 * with its nick, empty when there is none (a guest: Parley keeps metadata per account). When
 * the store cannot be read, RPL_METADATASYNCLATER instead: the client may SYNC later.
 */
export async function sendOwnMetadata(server: Server, session: Session): Promise<void> {
  if (!session.has(METADATA_CAP)) return;
  let entries: MetadataEntry[] = [];
  if (session.accountKey) {
    try {
      entries = await server.store.metadata.list(session.accountKey);
    } catch (err) {
      server.logger.warn('metadata: not read for the registration burst', { session: session.id, err });
      session.numeric(N.RPL_METADATASYNCLATER, session.nick, String(SYNC_RETRY_SECONDS));
      return;
    }
  }
  sendMetadataBatch(server, session, session.nick, entries.map((entry) => metadataLine(server, session.nick, entry)));
}

/** Each member of `room` on any node as nick and folded account key (null: not logged in). */
function membersOf(room: Room): { nick: string; account: string | null }[] {
  const members: { nick: string; account: string | null }[] = [];
  for (const member of room.members.keys()) members.push({ nick: member.nick, account: member.accountKey });
  for (const member of room.remote.values()) members.push({ nick: member.nick, account: member.account ? foldCase(member.account) : null });
  return members;
}

/** The subscribed metadata of every member of `room`, as METADATA lines; reads the store once. */
export async function roomMetadataLines(server: Server, session: Session, room: Room): Promise<IrcMessage[]> {
  const subs = session.metadataSubs;
  if (!subs || subs.size === 0) return [];
  const members = membersOf(room);
  const accounts = [...new Set(members.flatMap((m) => (m.account ? [m.account] : [])))];
  const byAccount = await server.store.metadata.listMany(accounts);
  const lines: IrcMessage[] = [];
  for (const member of members) {
    for (const entry of (member.account && byAccount.get(member.account)) || []) {
      if (subs.has(entry.key)) lines.push(metadataLine(server, member.nick, entry));
    }
  }
  return lines;
}

/**
 * After JOIN: the members' subscribed metadata in a `metadata` batch per room, or
 * RPL_METADATASYNCLATER for a large room or when the store cannot be read. Nothing for a
 * client without the cap or without subscriptions (there is nothing it asked to hear).
 */
export async function sendJoinMetadata(server: Server, session: Session, rooms: readonly Room[]): Promise<void> {
  if (!session.has(METADATA_CAP) || !session.metadataSubs?.size) return;
  for (const room of rooms) {
    if (!room.members.has(session)) continue;
    if (room.size > JOIN_SYNC_MAX_MEMBERS) {
      session.numeric(N.RPL_METADATASYNCLATER, room.name, String(SYNC_RETRY_SECONDS));
      continue;
    }
    try {
      sendMetadataBatch(server, session, room.name, await roomMetadataLines(server, session, room));
    } catch (err) {
      server.logger.warn('metadata: not read for a JOIN', { session: session.id, room: room.name, err });
      session.numeric(N.RPL_METADATASYNCLATER, room.name, String(SYNC_RETRY_SECONDS));
    }
  }
}
