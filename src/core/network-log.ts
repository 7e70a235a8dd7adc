/**
 * The network log: one bus log every node follows from its start, for what concerns the whole
 * network rather than a room or one node: users signing on and off and changing nick or
 * details (MONITOR, WHOWAS), WALLOPS, K-lines and D-lines, metadata changes (draft/metadata-2;
 * a gap loses those notifications, the store keeps the values: a client may SYNC). It is a room log under a name no
 * room can have (room names start with # or &, protocol/names.ts), so it has the room logs'
 * guarantees (one order, every event once, `gap` when entries are lost) with no new bus kind.
 *
 * Cost: one event per sign-on, sign-off, nick change and details change (network-users.ts),
 * per WALLOPS and per ban change; each node applies each with one map lookup (monitor.ts) or
 * none. Nothing on the hot path of messages.
 *
 * What a `gap` (entries trimmed past, or the log restarted after Redis lost its data) means:
 * - MONITOR: sign-ons and sign-offs may have been missed, so every nick watched on this node is
 *   looked up again and watchers are told what differs from what they were told (after Redis
 *   lost its data, RESTART_GRACE_MS later, once the nodes have announced their users again).
 * - K/D-lines: bans may have been added or removed, so they are read again from the store
 *   (which the nodes share) and this node's users matching any are dropped.
 * - WHOWAS entries and WALLOPS in the gap are lost: WHOWAS is best effort by contract
 *   (whowas.ts), and a WALLOPS is a live notice, not a record.
 * Own events come back through the log too (`own`): MONITOR is told from the log on every node
 * alike; WHOWAS, WALLOPS and bans were already applied here when they happened.
 */
import { foldCase } from '../protocol/index.js';
import type { Cluster } from '../cluster/cluster.js';
import type { Delivery, DetailsEvent, ClusterEvent, ServerBanEvent } from '../cluster/events.js';
import { FencedError } from '../cluster/nodes.js';
import type { Logger } from '../observability/logger.js';
import { dropBanned, enforce, kickReason } from './commands/operator.js';
import { applyMetadataEvent } from './metadata/notify.js';
import { line } from './room-events.js';
import { CHGHOST_CAP } from './host-change.js';
import type { Server } from './server.js';
import type { Session } from './session.js';

/** The network log's name: `~` is no room prefix (CHANTYPES #&), so no room can take it. */
export const NETWORK_LOG = '~network';

/** After a restarted network log, how long the nodes get to announce their users again (node-events.ts RESYNC_GRACE_MS). */
export const RESTART_GRACE_MS = 10_000;

/** Publishes `event` into the network log; fire-and-forget, a failure is logged. */
export function publishToNetwork(cluster: Cluster, logger: Logger, event: ClusterEvent): void {
  cluster.bus.publish(NETWORK_LOG, event).catch((err: unknown) => {
    if (!(err instanceof FencedError)) logger.warn('cluster: network event not published', { kind: event.kind, err });
  });
}

export class NetworkLog {
  /** Settles once this node follows the network log (app.ts waits for it before listening). */
  readonly ready: Promise<void>;

  constructor(private readonly server: Server) {
    this.ready = server.cluster.bus.follow(NETWORK_LOG).then(
      () => undefined,
      (err: unknown) => server.logger.error('cluster: the network log could not be followed', { err }),
    );
  }

  publish(event: ClusterEvent): void {
    publishToNetwork(this.server.cluster, this.server.logger, event);
  }

  /** What the bus delivered from the network log (bus-handler.ts). */
  apply(delivery: Delivery): void {
    const { server } = this;
    if (delivery.type === 'gap') {
      server.logger.warn('cluster: gap in the network log; checking MONITOR lists and bans again', { from: delivery.from, to: delivery.to, reason: delivery.reason });
      if (delivery.reason === 'restarted') {
        const timer = setTimeout(() => this.recheckMonitored(), RESTART_GRACE_MS);
        timer.unref();
      } else this.recheckMonitored();
      void this.reloadBans();
      return;
    }
    const { event, own } = delivery;
    const name = server.name;
    switch (event.kind) {
      case 'signon':
        server.monitor.changed(name, event.nick, true, event.source, event.uid);
        return;
      case 'signoff':
        server.monitor.changed(name, event.nick, false, event.nick, event.uid);
        if (!own && event.entry) server.whowas.record(event.entry);
        return;
      case 'renamed':
        // A change of case only leaves the nick online for its watchers.
        if (foldCase(event.nick) !== foldCase(event.to)) server.monitor.changed(name, event.nick, false, event.nick, event.uid);
        server.monitor.changed(name, event.to, true, event.source, event.uid);
        if (!own && event.entry) server.whowas.record(event.entry);
        return;
      case 'details':
        return this.tellWatchers(event, delivery.stamp.time);
      case 'wallops':
        if (own) return;
        server.deliverToUsers(line(event.source, 'WALLOPS', [event.text], delivery.stamp.time, event.account), (user) => user.wallops);
        return;
      case 'server-ban':
        if (!own) this.applyBan(event);
        return;
      case 'metadata':
        // Own changes too: this node's subscribers are told from the log, like every node's.
        return applyMetadataEvent(server, event, delivery.stamp.time);
      default:
        return;
    }
  }

  /**
   * extended-monitor: AWAY, ACCOUNT and SETNAME of a watched nick to its watchers here that
   * negotiated extended-monitor and the matching cap, unless they share a room with the user
   * (then the room tells them, and the spec wants no duplicate).
   */
  private tellWatchers(event: DetailsEvent, time: number): void {
    const { server } = this;
    const lines: { cap: string; out: ReturnType<typeof line> }[] = [];
    const { fields } = event;
    if ('away' in fields) lines.push({ cap: 'away-notify', out: line(event.source, 'AWAY', fields.away ? [fields.away] : [], time, event.account) });
    if ('account' in fields) lines.push({ cap: 'account-notify', out: line(event.source, 'ACCOUNT', [fields.account ?? '*'], time, null) });
    if (typeof fields.realname === 'string') lines.push({ cap: 'setname', out: line(event.source, 'SETNAME', [fields.realname], time, event.account) });
    if (typeof fields.host === 'string') {
      const user = event.source.slice(event.source.indexOf('!') + 1, event.source.lastIndexOf('@'));
      lines.push({ cap: CHGHOST_CAP, out: line(event.source, 'CHGHOST', [user, fields.host], time, event.account) });
    }
    if (lines.length === 0) return;
    for (const watcher of server.monitor.watchersOf(event.nick)) {
      if (watcher.uid === event.uid || sharesRoom(server, watcher, event.uid)) continue;
      // Each connection of the watcher by its own capabilities (multiclient.ts).
      watcher.eachConnection(() => {
        if (watcher.has('extended-monitor')) for (const { cap, out } of lines) if (watcher.has(cap)) watcher.deliver(out);
      });
    }
  }

  /** Another node added or removed a ban (already in the store): this node follows it. */
  private applyBan(event: ServerBanEvent): void {
    const { server } = this;
    const { ban } = event;
    if (typeof ban !== 'object' || ban === null || (ban.kind !== 'kline' && ban.kind !== 'dline') || typeof ban.mask !== 'string') return;
    if (event.action === 'remove') {
      server.bans.forget(ban.kind, ban.mask);
      return;
    }
    server.bans.apply(ban);
    const { bans } = server;
    const matches = ban.kind === 'kline'
      ? (user: Session) => user.registered && bans.klineFor(user.user, user.conn.remoteAddress) !== null
      : (user: Session) => bans.dlineFor(user.conn.remoteAddress) !== null;
    const hit = enforce(server, matches, String(event.reason));
    server.logger.info(`${ban.kind} from another node`, { origin: event.origin, mask: ban.mask, setBy: ban.setBy, dropped: hit });
  }

  /** Every watched nick looked up again; watchers hear what changed since they were told. */
  private recheckMonitored(): void {
    const { server } = this;
    for (const nick of server.monitor.nicks()) {
      const changes = server.monitor.changesOf(nick);
      void Promise.resolve(server.findUser(nick)).then(
        (user) => {
          if (server.monitor.changesOf(nick) !== changes) return; // an event told them meanwhile
          server.monitor.changed(server.name, nick, user !== null, user ? `${user.nick}!${user.user}@${user.host}` : nick, user?.uid ?? null);
        },
        (err: unknown) => server.logger.warn('cluster: MONITOR recheck failed', { nick, err }),
      );
    }
  }

  /** Bans read again from the store after a gap; this node's users matching any are dropped. */
  private async reloadBans(): Promise<void> {
    const { server } = this;
    try {
      await server.bans.reload();
    } catch (err) {
      server.logger.error('cluster: bans not reloaded after a gap in the network log', { err });
      return;
    }
    const { bans } = server;
    for (const user of [...server.sessions]) {
      const ban = (user.registered ? bans.klineFor(user.user, user.conn.remoteAddress) : null) ?? bans.dlineFor(user.conn.remoteAddress);
      if (ban && user.state !== 'closing') dropBanned(server, user, kickReason(ban));
    }
  }
}

/** Whether `watcher` sees user `uid` in one of its rooms on this node. */
export function sharesRoom(server: Server, watcher: Session, uid: string): boolean {
  const local = server.users.localByUid(uid);
  for (const room of watcher.rooms) if (local ? room.members.has(local) : room.remote.has(uid)) return true;
  return false;
}
