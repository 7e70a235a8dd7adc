/**
 * Multiclient: one user, several connections (a laptop, a phone and a bouncer-less web tab),
 * as Ergo does it. A connection that logs in to an account (SASL or PASS) and asks for the nick
 * a local user of that account holds becomes a further connection of that user instead of a
 * second user: the same nick, rooms, modes and away state; whatever the user says or does on one
 * connection, the others see; messages to the user reach all of them.
 *
 * The user stays one Session (the identity every room, nick table and shared record keys on);
 * each further connection is a Session of its own for what belongs to a connection (socket,
 * capabilities, flood control, labeled replies) with `principal` naming the user. Its commands
 * run as the user (Server.dispatch), one command of the user's at a time across connections.
 * A further connection that ends goes alone; the user's own connection that ends leaves the
 * user living on the others; the user leaves the network (QUIT to its rooms, nick freed) with
 * its last connection. KILL, bans of the user, a fenced or stopping node end all of them.
 *
 * Across nodes: a connection that registers on another node than the user's joins it all the
 * same: its socket stays there and its lines and output travel through the two nodes' inboxes
 * (relay.ts); here it is a further connection like any other.
 */
import * as N from '../protocol/numerics.js';
import type { Connection } from './connection.js';
import type { Server } from './server.js';
import type { Session } from './session.js';
import { sendWelcome } from './commands/welcome.js';
import { userModes } from './commands/modes.js';
import { welcomeToRoom } from './commands/rooms.js';

/**
 * The local user a registering connection asking for nick `key` would become a further
 * connection of, if it logs in to that user's account before registration ends; else null.
 */
export function attachCandidate(server: Server, session: Session, key: string): Session | null {
  if (!server.config.accounts.multiclient) return null;
  const holder = server.nicks.get(key);
  if (!holder || holder === session || !holder.registered || holder.accountKey === null) return null;
  return holder;
}

/** Why `connection` may not join `user` now, or null if it may. */
function refusal(server: Server, connection: Session, user: Session): string | null {
  if (user.state !== 'registered' || connection.nickKey !== user.nickKey) return 'Nickname is already in use';
  if (connection.accountKey !== user.accountKey) return 'Nickname is already in use';
  const limit = server.config.accounts.multiclient_max_connections;
  if (user.connections().length >= limit) return `Nickname is already in use (by its account on ${limit} connections, the most allowed)`;
  return null;
}

/**
 * Registration of a connection that asked for a logged-in user's nick: it joins that user if it
 * logged in to the same account, and gets the welcome, then the user's modes, away state and
 * rooms (JOIN, topic, NAMES) as if it had just joined them. Resolves false when it may not
 * join (433 sent; the client may pick another nick), true when it joined or was closed.
 */
export async function attachConnection(server: Server, connection: Session): Promise<boolean> {
  const user = connection.attachTo!;
  connection.attachTo = null;
  const refused = refusal(server, connection, user);
  if (refused !== null) {
    const nick = connection.nick;
    connection.nick = '*';
    connection.nickKey = '';
    connection.numeric(N.ERR_NICKNAMEINUSE, nick, refused);
    return false;
  }
  connection.user = user.user;
  connection.host = user.host;
  connection.realname = user.realname;
  connection.password = null;
  // Counted as the user's from its welcome on, so its own LUSERS does not call it unknown.
  server.counts.attached++;
  await sendWelcome(server, connection);
  if (connection.state !== 'connecting') {
    server.counts.attached--;
    return true;
  }
  // The user may have left or renamed while the welcome read the shared state.
  if (refusal(server, connection, user) !== null) {
    server.counts.attached--;
    server.quit(connection, 'The session this connection was joining ended; please reconnect');
    return true;
  }
  connection.state = 'registered';
  connection.principal = user;
  user.attached = [...(user.attached ?? []), connection];
  // The account's sessions are its users (read markers, account drops): this is not one.
  server.accounts.forget(connection);
  user.showTo(connection, () => showUser(server, user));
  server.logger.debug('connection joined its user', { session: connection.id, user: user.id, nick: user.nick, connections: user.connections().length });
  return true;
}

/** What a new connection of `user` must see to show it as it is (sent with its focus on that connection). */
function showUser(server: Server, user: Session): void {
  const modes = userModes(user);
  if (modes !== '+') user.sendMessage({ source: user.prefix, command: 'MODE', params: [user.nick, modes] });
  if (user.away !== null) user.numeric(N.RPL_NOWAWAY, 'You have been marked as being away');
  for (const room of user.rooms) {
    const params = user.has('extended-join') ? [room.name, user.account ?? '*', user.realname] : [room.name];
    user.send(server.event(user, 'JOIN', params));
    welcomeToRoom(server, user, room);
  }
}

/**
 * One connection of a user with several ends: `quit` says ERROR and closes it after its output,
 * `drop` (a SendQ overflow inside a broadcast) says ERROR and cuts it, `closed` (the transport
 * saw it end) says nothing. A further connection leaves its user; the user's own connection
 * leaves the user without one (its output goes nowhere, the liveness sweep passes it by). The
 * user itself leaves with its last connection, unless `userMayLeave` is false (Server.quit
 * ends the user itself right after).
 */
export function endConnection(server: Server, connection: Session, reason: string, how: 'quit' | 'drop' | 'closed', userMayLeave = true): void {
  if (connection.state === 'closing' || !connection.connected) return;
  const user = connection.principal ?? connection;
  if (how !== 'closed') connection.conn.write(Buffer.from(`ERROR :Closing Link: ${connection.host} (${reason})\r\n`));
  if (how === 'drop') connection.conn.destroy();
  else if (how === 'quit') connection.conn.close();
  server.networkConnections.give(connection);
  server.connectionEnded(connection, reason);
  connection.backlog.length = 0;
  connection.backlogBytes = 0;
  if (connection.principal !== null) {
    connection.state = 'closing';
    server.sessions.delete(connection);
    server.counts.attached--;
    const rest = user.attached!.filter((other) => other !== connection);
    user.attached = rest.length > 0 ? rest : null;
  } else {
    connection.connected = false;
    connection.conn = closedConnection(connection.conn);
    server.counts.detached++;
  }
  if (!userMayLeave || user.connected || user.attached !== null || user.state === 'closing') return;
  // The last connection: the user leaves. Inside a broadcast (drop), after it.
  if (how === 'drop') setImmediate(() => user.state !== 'closing' && server.forget(user, reason));
  else server.forget(user, reason);
}

/** What a user's own connection becomes once it ended while the user stays: output goes nowhere. */
function closedConnection(ended: Connection): Connection {
  const { remoteAddress, secure, transport } = ended;
  const nothing = () => {};
  return { remoteAddress, secure, transport, queuedBytes: 0, write: nothing, close: nothing, pauseReading: nothing, resumeReading: nothing, destroy: nothing };
}
