/**
 * What the core does when its node's standing in the network changes (cluster/nodes.ts
 * NodeEvent):
 * - `fenced`: the lease is lost for good, so this node may no longer act on what it believed it
 *   owned. Every client gets an ERROR and is dropped (its users are reaped by a peer, whose QUITs
 *   reach everyone else), and no connection is admitted any more (/readyz is 503 already). The
 *   process keeps running for an operator to see why; restarting it joins under a new node id.
 * - `reconnected` with `lost`: Redis came back empty and the node registered again under its id.
 *   Each local user is announced again (`addUser`); one whose nick was claimed meanwhile by a
 *   user of another node gets a guest nick (Redis decided that claim, so every node agrees).
 *   Then each room this node has a copy of gets its local members back (`join`, creating the
 *   room from the copy's state if no node did it first: the first one wins, on every node), and
 *   the copy is reconciled with what the room is now (room-resync.ts), keeping other nodes'
 *   members until RESYNC_GRACE_MS later, when those whose nodes did not announce them are gone.
 * - `reaped` (this node reaped a dead one): room messages it published and held here are looked up
 *   in the store (room-log.ts). QUITs of a dead node's users reach rooms through the room logs;
 *   their sign-offs reach MONITOR and WHOWAS on every node through the network log, published
 *   here.
 */
import type { NodeEvent } from '../cluster/nodes.js';
import type { NickEvent } from '../cluster/events.js';
import { changeNick, guestNick } from './commands/registration.js';
import { publisherReaped, resyncRoom } from './room-log.js';
import { fieldsOf } from './room-fields.js';
import { joinEvent } from './room-join.js';
import type { Room } from './room.js';
import type { Server } from './server.js';
import type { Session } from './session.js';

export const FENCED_REASON = 'Server fenced: it lost its place in the network, please reconnect';

export function handleNodeEvent(server: Server, event: NodeEvent): void {
  if (event.type === 'fenced') {
    server.logger.error('cluster: node fenced; dropping every client and refusing new ones', { node: server.cluster.nodes.id, reason: event.reason });
    server.fence(FENCED_REASON);
    return;
  }
  if (event.type === 'reaped') {
    // Messages the dead node published but could not confirm as stored: looked up now.
    publisherReaped(server, event.node);
    // The dead node cannot say its users left: the reaper does, for MONITOR and WHOWAS on
    // every node (the network shows as one server: this one's name).
    const at = Date.now();
    for (const { uid, nick, user, host, realname, account } of event.users) {
      const entry = { nick, user, host, realname, account, server: server.name, at };
      server.whowas.record(entry);
      server.networkLog.publish({ v: 1, origin: server.cluster.nodes.id, kind: 'signoff', uid, nick, entry });
    }
    return;
  }
  if (event.type === 'reconnected' && event.lost) {
    server.logger.warn('cluster: Redis lost its data; announcing local users and rooms again', { node: server.cluster.nodes.id });
    void reannounceAll(server);
    // The per-address counts went with the rest (limits/network-connections.ts).
    server.networkConnections.reannounce();
  }
}

/** Time for the other nodes to announce their users and rooms again after Redis came back empty. */
export const RESYNC_GRACE_MS = 10_000;

async function reannounceAll(server: Server): Promise<void> {
  const users = [...server.sessions].filter((session) => session.claimed && !session.removal);
  const renamed = await Promise.all(users.map((session) => reannounce(server, session)));
  await Promise.all([...server.rooms.values()].map((room) => reannounceRoom(server, room)));
  // Users who yielded their nick: other nodes' copies of their rooms learn the new one.
  users.forEach((session, i) => {
    const old = renamed[i];
    if (old !== null && session.state !== 'closing') announceRename(server, session, old);
  });
  const timer = setTimeout(() => {
    for (const room of server.rooms.values()) resyncRoom(server, room, false);
  }, RESYNC_GRACE_MS);
  timer.unref();
}

/** Claims the user again; resolves with its `nick!user@host` before a guest rename, or null. */
async function reannounce(server: Server, session: Session): Promise<string | null> {
  const before = session.prefix;
  const given = server.users.givenUp(session);
  try {
    for (let attempt = 0; attempt < 8; attempt++) {
      const result = await server.cluster.state.addUser(server.users.recordOf(session));
      if (session.state === 'closing') return null;
      if (result.ok || result.reason !== 'in-use') {
        if (session.prefix === before) return null;
        if (result.ok) server.users.yielded(session, given);
        return before;
      }
      // The nick went to someone else while Redis was empty: this user yields it.
      changeNick(server, session, guestNick(server));
    }
    server.quit(session, 'No free nick after the network restarted');
  } catch (err) {
    server.logger.warn('cluster: user not announced again', { uid: session.uid, err });
  }
  return null;
}

/** A NICK into each of the user's rooms' logs (shown here already by changeNick). */
function announceRename(server: Server, session: Session, source: string): void {
  const event: NickEvent = { v: 1, origin: server.cluster.nodes.id, kind: 'nick', uid: session.uid, source, nick: session.nick };
  for (const room of session.rooms) {
    server.cluster.bus.publish(room.key, event).catch((err: unknown) => server.logger.warn('cluster: rename not announced', { room: room.key, err }));
  }
}

/** The copy's local members joined again with their flags; the room created from the copy if absent. */
async function reannounceRoom(server: Server, room: Room): Promise<void> {
  for (const [session, flags] of [...room.members]) {
    if (session.state === 'closing') continue;
    try {
      // No version check and no limit: these members were in the room; only Redis forgot it.
      await server.cluster.state.join(room.name, session.uid, {
        flags,
        ignoreLimit: true,
        create: { fields: fieldsOf(room), flags },
        announce: joinEvent(server, session, flags),
      });
    } catch (err) {
      server.logger.warn('cluster: membership not announced again', { room: room.key, uid: session.uid, err });
    }
  }
  if (server.rooms.get(room.key) === room) resyncRoom(server, room, true);
}
