/**
 * The core's one handler for what the bus delivers (cluster/bus.ts): events in log order, from
 * every node, this one included. Each kind goes to the module that applies it.
 */
import type { Delivery } from '../cluster/events.js';
import { deliverDirect } from './direct.js';
import { NETWORK_LOG } from './network-log.js';
import { deliverDirectRedaction } from './redactions.js';
import { applyRoomDelivery } from './room-log.js';
import type { Server } from './server.js';

export function handleDelivery(server: Server, delivery: Delivery): void {
  if ('room' in delivery.log && delivery.log.room === NETWORK_LOG) {
    server.networkLog.apply(delivery);
    return;
  }
  if ('room' in delivery.log) {
    applyRoomDelivery(server, delivery, delivery.log.room);
    return;
  }
  // The own inbox lost entries: relayed connections may have lost lines (relay.ts).
  if (delivery.type !== 'event') return server.relays.inboxGap();
  const { event } = delivery;
  if (event.kind === 'message') deliverDirect(server, event, delivery);
  else if (event.kind === 'redact') deliverDirectRedaction(server, event, delivery);
  else if (event.kind === 'kill') server.remoteUsers.applyKill(event);
  else if (event.kind === 'chghost') server.remoteUsers.applyChghost(event);
  else if (event.kind === 'killed') server.remoteUsers.applyKilled(event);
  else if (event.kind === 'idle-query') server.remoteUsers.applyIdleQuery(event);
  else if (event.kind === 'idle') server.remoteUsers.applyIdle(event);
  else if (event.kind === 'relay-up') server.relays.applyUp(event);
  else if (event.kind === 'relay-down') server.relays.applyDown(event);
  else if (event.kind === 'invite') server.remoteUsers.deliverInvite(event, delivery.stamp.time);
}
