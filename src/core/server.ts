import { randomBytes } from 'node:crypto';
import { fitLastParam, foldCase, type IrcMessage } from '../protocol/index.js';
import * as N from '../protocol/numerics.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import { noopMetrics, type ServerMetrics } from '../observability/metrics.js';
import type { Connection } from './connection.js';
import { DisconnectReason, IrcError } from './errors.js';
import { buildIsupport } from './isupport.js';
import { Outgoing } from './outgoing.js';
import type { Room } from './room.js';
import { Session } from './session.js';
import { COMMANDS } from './commands/index.js';
import { claimGuestNick } from './commands/registration.js';
import { Accounts } from './accounts.js';
import { RoomRegistry } from './room-registry.js';
import { NickProtection } from './nick-protection.js';
import type { Store } from '../store/store.js';
import type { Cluster } from '../cluster/cluster.js';
import type { UserRecord } from '../cluster/state.js';
import { NetworkUsers } from './network-users.js';
import { RemoteUsers } from './remote-users.js';
import { handleDelivery } from './bus-handler.js';
import { handleNodeEvent } from './node-events.js';
import { removeLocal, RoomCopies } from './room-copies.js';
import { Notified } from './room-events.js';
import { checkHeld } from './room-log.js';
import { RoomMessages } from './room-messages.js';
import type { QuitEvent } from '../cluster/events.js';
import { History } from './history/history.js';
import { AddressLimits } from '../limits/address-limits.js';
import { NetworkConnectionLimits } from '../limits/network-connections.js';
import { admitNetworkWide } from './network-admission.js';
import { InputGate } from './input-gate.js';
import { endConnection } from './multiclient.js';
import { Relays } from './relay.js';
import { ServerBans } from './server-bans.js';
import { checkText } from './commands/text-policy.js';
import { MemoryNickHistory, type NickHistory } from './whowas.js';
import { MonitorIndex } from './monitor.js';
import { NetworkLog } from './network-log.js';
import { LoginLog } from './login-log.js';
import { dropPendingMoves } from './room-rename.js';

export interface ServerOptions {
  config: Config;
  logger: Logger;
  /** MOTD lines, or null for ERR_NOMOTD. */
  motd: string[] | null;
  store: Store;
  /** This node's view of the network (lease, shared state, bus); in memory for one process. */
  cluster: Cluster;
  /** The clock time rules use (flood control, per-address limits, ban expiry); tests inject one. */
  clock?: () => number;
  /** The nick history WHOWAS reads; a cluster passes one its nodes share. @default in memory */
  whowas?: NickHistory;
  /** What is counted (app.ts: Prometheus). @default nothing */
  metrics?: ServerMetrics;
}

/** The chat domain for one process: who is connected, which rooms exist, and the rules. */
export class Server {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: ServerMetrics;
  readonly motd: string[] | null;
  readonly name: string;
  readonly createdAt = new Date();
  /** The clock time rules use (flood control, ban expiry, the REDACT window); tests inject one. */
  readonly clock: () => number;
  readonly isupport: string[];
  readonly sessions = new Set<Session>();
  /** Registered and registering nicks, by folded nick. */
  readonly nicks = new Map<string, Session>();
  /** This node's copies of the rooms its sessions are in (room-copies.ts), by folded name. */
  readonly rooms = new Map<string, Room>();
  readonly roomCopies: RoomCopies = new RoomCopies(this);
  /** Local members told of a change that arrives once per room (room-events.ts). */
  readonly notified = new Notified();
  /** Copies with log entries waiting (room-log.ts), for the sweep's look-ups. */
  readonly roomLogs = new Set<Room>();
  /** Room messages published into the logs, until stored (room-messages.ts). */
  readonly roomMessages: RoomMessages;
  readonly store: Store;
  readonly cluster: Cluster;
  /** Registered users network-wide: nick claims and lookups through the shared state. */
  readonly users: NetworkUsers;
  /** KILL, GHOST and INVITE of users on other nodes, through their nodes' inboxes. */
  readonly remoteUsers: RemoteUsers = new RemoteUsers(this);
  /** Connections joining users across nodes (multiclient with the socket on one node, the user on another). */
  readonly relays: Relays = new Relays(this);
  readonly accounts: Accounts;
  readonly roomRegistry: RoomRegistry;
  /** Who may hold a registered nick (accounts.nick_protection). */
  readonly nickProtection: NickProtection;
  /** Message history: the batched writer, retention; queries go through `history.read()`. */
  readonly history: History;
  /** Per-address connection and registration limits. */
  readonly addressLimits: AddressLimits;
  /** max_connections_per_address network-wide: each session's share (network-admission.ts). */
  readonly networkConnections: NetworkConnectionLimits<Session>;
  /** Flood control: when each session's lines run. */
  readonly input: InputGate;
  /** KLINE and DLINE. */
  readonly bans: ServerBans;
  /** Nicks given up recently (WHOWAS), on any node: the others' come through the network log. */
  readonly whowas: NickHistory;
  /** Who watches which nick here (MONITOR). */
  readonly monitor: MonitorIndex;
  /** The log every node follows: sign-ons and offs, WALLOPS, bans (network-log.ts). */
  readonly networkLog: NetworkLog;
  /** Login outcomes to the log and the metrics. */
  readonly logins: LoginLog;
  /** The port of the first TLS listener, set once it listens (STS advertises it). */
  tlsPort: number | null = null;

  /** Set once the node is fenced (node-events.ts): no chat connection is admitted any more. */
  private fencedReason: string | null = null;
  /** Set by shutdown: background work (room-rename.ts) starts nothing new. */
  stopped = false;
  /** Set once a graceful stop starts draining (drain below): new sessions go elsewhere. */
  private drainingReason: string | null = null;
  private nextSessionId = 1;
  private batchCounter = 0;
  private msgidCounter = 0;
  // A random prefix per process keeps msgids unique across restarts without a clock read.
  private readonly msgidPrefix = randomBytes(6).toString('base64url');
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(options: ServerOptions) {
    this.config = options.config;
    this.logger = options.logger;
    this.metrics = options.metrics ?? noopMetrics;
    this.motd = options.motd;
    this.name = options.config.server.name;
    this.isupport = buildIsupport(options.config);
    this.store = options.store;
    this.cluster = options.cluster;
    this.users = new NetworkUsers(options.cluster, options.logger, this.name);
    options.cluster.bus.onDelivery((delivery) => handleDelivery(this, delivery));
    options.cluster.nodes.onEvent((event) => handleNodeEvent(this, event));
    const clock = options.clock ?? Date.now;
    this.clock = clock;
    this.accounts = new Accounts(options.store, options.config.accounts, clock);
    this.roomRegistry = new RoomRegistry(options.store, options.logger);
    this.nickProtection = new NickProtection(options.config.accounts, this.accounts, clock);
    this.history = new History(options.store.history, options.config.history, options.logger, this.metrics);
    this.roomMessages = new RoomMessages(this);
    this.logins = new LoginLog(options.logger, this.metrics, clock);
    const { limits, accounts } = options.config;
    this.addressLimits = new AddressLimits(
      {
        maxConnections: limits.max_connections_per_address,
        connectionsPerMinute: limits.connections_per_address_per_minute,
        registrationsPerHour: accounts.max_registrations_per_address_per_hour,
        exempt: limits.exempt_addresses,
        exemptLoopback: limits.exempt_loopback,
      },
      clock,
    );
    this.networkConnections = new NetworkConnectionLimits(options.cluster.state, {
      limit: limits.max_connections_per_address,
      onError: (err) => this.logger.warn('cluster: per-address count failed; admitted on this node\'s count alone', { err }),
    });
    this.input = new InputGate(this, clock);
    this.bans = new ServerBans(options.store.bans, options.logger, clock);
    this.whowas = options.whowas ?? new MemoryNickHistory();
    this.monitor = new MonitorIndex(limits.monitor_targets);
    this.networkLog = new NetworkLog(this);
    // One timer for all sessions: fine-grained enough for the shortest configured deadline.
    const shortest = Math.min(limits.ping_interval_seconds, limits.registration_timeout_seconds, accounts.nick_protection_seconds || Infinity);
    const sweepMs = Math.min(1000, Math.max(25, (shortest * 1000) / 4));
    this.sweepTimer = setInterval(() => {
      this.sweep(Date.now());
      this.accounts.pruneThrottle();
      this.addressLimits.prune();
      this.bans.prune();
      this.nickProtection.prune();
      this.notified.prune(Date.now());
      if (this.roomLogs.size > 0) void checkHeld(this, this.roomLogs, Date.now());
    }, sweepMs);
    this.sweepTimer.unref();
  }

  /**
   * May a new connection from `address` go on (checked at accept, before TLS or any input)?
   * Null if so, and it is counted against its address until `release`; else why not. These are
   * this node's counts; a session then waits for its share of the network-wide count before
   * its first line runs (network-admission.ts, from `attach`).
   */
  admit(address: string): string | null {
    const dline = this.bans.dlineFor(address);
    if (dline) {
      this.metrics.connectionRefused();
      this.logger.debug('connection refused', { address, reason: 'D-Lined', mask: dline.mask });
      return `${DisconnectReason.DLined}: ${dline.reason}`;
    }
    const refusal = this.addressLimits.admit(address);
    // Debug only: one line per refused attempt would let a connect loop fill the log.
    if (refusal) {
      this.metrics.connectionRefused();
      this.logger.debug('connection refused', { address, reason: refusal });
    }
    return refusal;
  }

  /**
   * Why no chat session may start here (the node is fenced or draining), or null. Checked apart from
   * `admit`, which counts every HTTP connection: /readyz and /metrics must still answer on a
   * fenced node, for the balancer and the operator.
   */
  get refusesSessions(): string | null {
    return this.fencedReason ?? this.drainingReason;
  }

  /** A connection `admit` let in has closed. */
  release(address: string): void {
    this.addressLimits.closed(address);
  }

  /** A transport hands over a new connection. */
  attach(conn: Connection): Session {
    const session = new Session(this.nextSessionId++, conn, this);
    this.sessions.add(session);
    admitNetworkWide(this, session);
    this.metrics.connectionAccepted();
    // Debug only, like refusals: at info a connect loop would fill the log (app.ts logs a summary).
    this.logger.debug('connection accepted', { session: session.id, address: conn.remoteAddress, transport: conn.transport });
    return session;
  }

  /**
   * A further connection of a user here whose socket is on another node (relay.ts): that node
   * admitted and counts it, so it takes no share of the per-address limits here.
   */
  adoptRelayed(conn: Connection): Session {
    const session = new Session(this.nextSessionId++, conn, this);
    this.sessions.add(session);
    return session;
  }

  /** Live counts for LUSERS, kept as sessions change so no query walks every user. */
  readonly counts = {
    registered: 0, invisible: 0, opers: 0, /** most registered at once since start */ peak: 0,
    /** Sessions that are a user's further connections, and users whose own connection ended (multiclient.ts). */
    attached: 0, detached: 0,
  };

  /**
   * Open chat connections: sessions, less the users living on their further connections only
   * and the further connections whose sockets are on other nodes.
   */
  get openConnections(): number {
    return this.sessions.size - this.counts.detached - this.relays.relayedIn;
  }

  findNick(nick: string): Session | undefined {
    const session = this.nicks.get(foldCase(nick));
    return session?.registered ? session : undefined;
  }

  /**
   * A registered user anywhere on the network: a local session at once (no await: the hot path
   * of a direct message), else the shared record of a user on another node, or null.
   */
  findUser(nick: string): Session | Promise<UserRecord | null> {
    return this.findNick(nick) ?? this.users.remoteByNick(nick);
  }

  findRoom(name: string): Room | undefined {
    return this.rooms.get(foldCase(name));
  }

  newMsgid(): string {
    // Fixed width, so msgids of one process sort in the order they were made: history orders
    // messages of the same millisecond by msgid.
    return `${this.msgidPrefix}${(this.msgidCounter++).toString(36).padStart(8, '0')}`;
  }

  nextBatchId(): string {
    return (this.batchCounter++).toString(36);
  }

  /**
   * Run one command: the single place for ERR_NOTREGISTERED, ERR_NOPRIVILEGES,
   * ERR_NEEDMOREPARAMS and errors. A handler may return a promise (rare paths: login,
   * history); until it settles the session's later lines wait in its backlog (input-gate.ts).
   */
  dispatch(connection: Session, message: IrcMessage): void {
    // A second connection of a user (multiclient.ts) acts as that user, except for what
    // concerns the connection itself; the user's connections run their commands one at a time.
    const user = connection.principal ?? connection;
    const session = connection.principal !== null && COMMANDS.get(message.command)?.perConnection ? connection : user;
    user.via = connection;
    const endLabeled = connection.beginLabeled(message.tags?.label);
    let pending: Promise<void> | void = undefined;
    try {
      pending = this.runCommand(session, message);
    } catch (err) {
      this.replyError(session, message.command, err);
    }
    if (!(pending instanceof Promise)) {
      endLabeled();
      user.via = null;
      return;
    }
    user.busy = true;
    pending
      .catch((err: unknown) => this.replyError(session, message.command, err))
      .finally(() => {
        endLabeled();
        user.via = null;
        user.busy = false;
        for (const waiting of user.connections()) this.input.drain(waiting);
      });
  }

  private runCommand(session: Session, message: IrcMessage): Promise<void> | void {
    const spec = COMMANDS.get(message.command);
    this.metrics.command(spec ? message.command : 'other');
    if (!spec) {
      this.metrics.commandError('other');
      if (session.registered) session.numeric(N.ERR_UNKNOWNCOMMAND, message.command, 'Unknown command');
      else session.numeric(N.ERR_NOTREGISTERED, 'You have not registered');
      return;
    }
    const early = spec.beforeRegistration === true || (typeof spec.beforeRegistration === 'string' && session.has(spec.beforeRegistration));
    if (!session.registered && !early) {
      this.metrics.commandError(message.command);
      session.numeric(N.ERR_NOTREGISTERED, 'You have not registered');
      return;
    }
    if (spec.oper && !session.oper) {
      this.metrics.commandError(message.command);
      session.numeric(N.ERR_NOPRIVILEGES, "Permission Denied- You're not an IRC operator");
      return;
    }
    if (message.params.length < spec.minParams) {
      this.metrics.commandError(message.command);
      session.numeric(N.ERR_NEEDMOREPARAMS, message.command, 'Not enough parameters');
      return;
    }
    checkText(message);
    return spec.handler({ server: this, session, message, params: message.params });
  }

  /** Answer an IrcError as itself; anything else is a bug: logged, answered generically. */
  replyError(session: Session, command: string, err: unknown): void {
    this.metrics.commandError(COMMANDS.has(command) ? command : 'other');
    if (err instanceof IrcError) {
      if (err.kind === 'numeric') session.numeric(err.code, ...err.params);
      else session.standardReply('FAIL', err.params);
      return;
    }
    this.logger.error('command failed', { command, session: session.id, err });
    session.standardReply('FAIL', [command, 'INTERNAL_ERROR', 'The server could not run this command']);
  }

  /** Everyone who shares a room with `session`, each once, without `session` itself. */
  audienceOf(session: Session): Set<Session> {
    const audience = new Set<Session>();
    for (const room of session.rooms) {
      for (const member of room.members.keys()) audience.add(member);
    }
    audience.delete(session);
    return audience;
  }

  /**
   * Run `action` for each item of a comma list; an IrcError for one item does not stop the rest.
   * Errors are answered by `report` (NOTICE drops numerics), by default as any command's.
   */
  forEachTarget(
    session: Session,
    command: string,
    items: string[],
    action: (item: string, index: number) => void,
    report: (err: unknown) => void = (err) => this.replyError(session, command, err),
  ): void {
    items.forEach((item, index) => {
      try {
        action(item, index);
      } catch (err) {
        report(err);
      }
    });
  }

  /**
   * Like forEachTarget, for actions that may await (network-wide room changes): each item's
   * action starts once the one before it has settled, so replies keep the items' order.
   */
  async forEachTargetInTurn(
    session: Session,
    command: string,
    items: string[],
    action: (item: string, index: number) => Promise<void> | void,
  ): Promise<void> {
    for (let index = 0; index < items.length; index++) {
      if (session.state === 'closing') return;
      try {
        await action(items[index]!, index);
      } catch (err) {
        this.replyError(session, command, err);
      }
    }
  }

  /**
   * A user event (JOIN, QUIT...) stamped with time and source, ready for any view. Given the
   * session, it carries the `account` tag of a logged-in user (IRCv3 account-tag: every message
   * from that user). Its last parameter is cut to keep the line within 512 bytes (line-fit.ts).
   */
  event(source: Session | string, command: string, params: string[], extraTags?: Record<string, string>): Outgoing {
    const tags: Record<string, string> = { time: new Date().toISOString(), ...extraTags };
    const prefix = typeof source === 'string' ? source : source.prefix;
    if (typeof source !== 'string' && source.account) tags.account = source.account;
    return new Outgoing({ tags, source: prefix, command, params: fitLastParam(prefix, command, params) });
  }

  /** WHOWAS: `session` gives up its nick (a nick change, or it leaves). */
  rememberNick(session: Session): void {
    const { nick, user, host, realname, account } = session;
    this.whowas.record({ nick, user, host, realname, account, server: this.name, at: Date.now() });
  }

  /**
   * Every registered user on this node for whom `wanted` holds gets `out` (WALLOPS to +w).
   * The one place a message goes to users by a property rather than by room or nick. Other
   * nodes run it for their own users when the event reaches them through the network log
   * (network-log.ts; WALLOPS publishes there).
   */
  deliverToUsers(out: Outgoing, wanted: (user: Session) => boolean): void {
    for (const user of this.sessions) if (user.registered && user.principal === null && wanted(user)) user.deliver(out);
  }

  /** Leave this node's copy of `room` without the network (its change could not be announced). */
  removeFromRoom(session: Session, room: Room): void {
    removeLocal(room, session);
    this.roomCopies.dropIfUnused(room.key);
  }

  /**
   * The server ends the session (KILL, a ban, shutdown): tell it, tell its rooms, close. A
   * user's every connection goes; a further connection (multiclient.ts) goes alone.
   */
  quit(session: Session, reason: string): void {
    if (session.state === 'closing') return;
    if (session.principal !== null) return endConnection(this, session, reason, 'quit');
    for (const connection of session.attached ?? []) endConnection(this, connection, reason, 'quit', false);
    session.conn.write(Buffer.from(`ERROR :Closing Link: ${session.host} (${reason})\r\n`));
    this.forget(session, reason);
    session.conn.close();
  }

  /**
   * One connection ends on its client's side or its own (QUIT, ping timeout, flood): the
   * user leaves with it unless it has other connections (multiclient.ts).
   */
  disconnect(connection: Session, reason: string): void {
    if (connection.principal !== null || connection.attached !== null) endConnection(this, connection, reason, 'quit');
    else this.quit(connection, reason);
  }

  /** Drop a connection from inside a broadcast: the cleanup waits for the loop to finish. */
  drop(session: Session, reason: string): void {
    if (session.state === 'closing' || !session.connected) return;
    if (session.principal !== null || session.attached !== null) return endConnection(this, session, reason, 'drop');
    session.state = 'closing';
    session.conn.write(Buffer.from(`ERROR :Closing Link: ${session.host} (${reason})\r\n`));
    session.conn.destroy();
    setImmediate(() => this.announceDeparture(session, reason));
  }

  /** The transport saw the connection end. */
  connectionClosed(session: Session, reason: string): void {
    if (session.state === 'closing' || !session.connected) return;
    if (session.principal !== null || session.attached !== null) return endConnection(this, session, reason, 'closed');
    this.forget(session, reason);
  }

  /** The user leaves the network: its rooms are told, its nick is free (multiclient.ts calls it for its last connection). */
  forget(session: Session, reason: string): void {
    session.state = 'closing';
    this.announceDeparture(session, reason);
  }

  private announceDeparture(session: Session, reason: string): void {
    if (!this.sessions.delete(session)) return;
    if (session.link !== null) this.relays.ended(session, reason);
    if (!session.connected) this.counts.detached--;
    this.networkConnections.give(session);
    if (session.nickKey && this.nicks.get(session.nickKey) === session) this.nicks.delete(session.nickKey);
    // The QUIT goes into each of its rooms' logs with the removal: every node, this one too,
    // shows it in its place (room-events.ts). If it cannot, this node's members are told here.
    const quit: QuitEvent | undefined = session.rooms.size > 0
      ? { v: 1, origin: this.cluster.nodes.id, kind: 'quit', uid: session.uid, nick: session.nick, reason }
      : undefined;
    const announced = this.users.remove(session, quit);
    if (session.counted) {
      this.counts.registered--;
      if (session.invisible) this.counts.invisible--;
      if (session.oper) this.counts.opers--;
    }
    this.accounts.forget(session);
    this.monitor.clear(session);
    if (session.counted) this.rememberNick(session);
    if (quit) {
      void announced.then((ok) => {
        if (!ok) this.leaveRoomsHere(session, reason);
      });
    }
    if (session.connected) this.connectionEnded(session, reason);
  }

  /** Metrics and the debug log of one connection that ended. */
  connectionEnded(session: Session, reason: string): void {
    if (session.conn.relayed) return; // its own node counts and logs it
    this.metrics.connectionClosed();
    this.logger.debug('connection closed', {
      session: session.id,
      nick: (session.principal ?? session).nick,
      address: session.conn.remoteAddress,
      transport: session.conn.transport,
      duration_ms: Date.now() - session.connectedAt,
      reason,
    });
  }

  /** QUIT to this node's members of the session's rooms, and out of their copies. */
  private leaveRoomsHere(session: Session, reason: string): void {
    if (session.rooms.size === 0) return;
    const quit = this.event(session, 'QUIT', [reason]);
    for (const member of this.audienceOf(session)) member.deliver(quit);
    for (const room of [...session.rooms]) this.removeFromRoom(session, room);
  }

  /** Liveness: PING idle clients, drop the silent ones and those that never finish registering. */
  sweep(now: number): void {
    const registrationTimeout = this.config.limits.registration_timeout_seconds * 1000;
    this.relays.checkPeers(now);
    for (const session of this.sessions) {
      if (session.state === 'closing' || session.link !== null) continue; // relayed: its user's node pings it
      if (!session.registered) {
        if (now - session.connectedAt > registrationTimeout) this.quit(session, 'Registration timed out');
        continue;
      }
      if (!session.connected) continue; // a user living on its further connections: each is checked itself
      if (session.protectedNick && now > session.protectedNick.deadline) this.enforceNickProtection(session);
      this.checkLiveness(session, now);
    }
  }

  private checkLiveness(session: Session, now: number): void {
    const { ping_interval_seconds, ping_timeout_seconds } = this.config.limits;
    const idle = now - session.lastActivity;
    if (session.pingSent) {
      if (idle > (ping_interval_seconds + ping_timeout_seconds) * 1000) {
        this.disconnect(session, `Ping timeout: ${Math.round(idle / 1000)} seconds`);
      }
    } else if (idle > ping_interval_seconds * 1000) {
      session.pingSent = true;
      session.sendMessage({ command: 'PING', params: [this.name] });
    }
  }

  private enforceNickProtection(session: Session): void {
    const protectedNick = session.protectedNick!;
    session.protectedNick = null;
    if (session.nickKey !== protectedNick.key || session.accountKey === protectedNick.key) return;
    this.nickProtection.renamedAway(session, protectedNick.key);
    claimGuestNick(this, session).catch((err: unknown) => this.logger.error('nick protection: rename failed', { session: session.id, err }));
  }

  /** The node lost its lease: every client is told and dropped, and no connection is admitted. */
  fence(reason: string): void {
    if (this.fencedReason !== null) return;
    this.fencedReason = reason;
    for (const session of [...this.sessions]) this.quit(session, reason);
  }

  /**
   * The first half of a graceful stop in a cluster: no new session is admitted, and the ones
   * here are told `reason` and closed one by one in a random order, evenly spaced over
   * `windowMs`, so their reconnects reach the other nodes spread out rather than in one burst.
   * Resolves once every session that was here when it started has been told (or has gone).
   */
  drain(reason: string, windowMs: number): Promise<void> {
    this.drainingReason ??= reason;
    const order = shuffled([...this.sessions]);
    if (order.length === 0 || windowMs <= 0) {
      for (const session of order) this.quit(session, reason);
      return Promise.resolve();
    }
    const startedAt = Date.now();
    const step = windowMs / order.length;
    let next = 0;
    return new Promise((resolve) => {
      const tick = () => {
        // Everyone whose turn has come (timers fire late under load): quit them all now.
        const due = Math.floor((Date.now() - startedAt) / step) + 1;
        while (next < order.length && next < due) this.quit(order[next++]!, reason);
        if (next >= order.length) resolve();
        else setTimeout(tick, Math.max(1, startedAt + next * step - Date.now()));
      };
      tick();
    });
  }

  /** Graceful end: every client is told why, then its connection is closed. */
  shutdown(reason = 'Server shutting down'): void {
    this.stopped = true;
    dropPendingMoves(this);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    for (const session of [...this.sessions]) this.quit(session, reason);
    void this.history.stop(); // commits now; app.ts awaits history.flush() before closing the store
  }
}

/** Fisher-Yates: who goes first in a drain is chance, not connection order. */
function shuffled<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
