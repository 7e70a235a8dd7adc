/**
 * The network-wide part of limits.max_connections_per_address. At accept, Server.admit checks
 * this node's own counts synchronously (no await before a connection gets its session); once
 * the session exists, it asks the shared state for a share of its address
 * (limits/network-connections.ts). Until the answer, its lines wait in its backlog as behind an
 * async command (input-gate.ts), so it cannot register; over the limit it gets the ERROR a
 * refusal at accept gets and is closed. Exempt addresses (limits.exempt_addresses, loopback
 * with limits.exempt_loopback) are not asked about. The share goes back when the session ends.
 */
import { REFUSED_TOO_MANY } from '../limits/address-limits.js';
import type { Server } from './server.js';
import type { Session } from './session.js';

export function admitNetworkWide(server: Server, session: Session): void {
  const key = server.addressLimits.countedKey(session.conn.remoteAddress);
  if (key === null) return;
  session.busy = true;
  void server.networkConnections.take(session, key).then((ok) => {
    session.busy = false;
    if (session.state === 'closing') return;
    if (!ok) {
      server.metrics.connectionRefused();
      server.logger.debug('connection refused', { address: session.conn.remoteAddress, reason: REFUSED_TOO_MANY, network: true });
      server.quit(session, REFUSED_TOO_MANY);
      return;
    }
    server.input.drain(session);
  });
}
