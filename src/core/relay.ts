/**
 * Multiclient across nodes: a connection that registers on one node (the balancer sent it
 * there) logged in to the account of a user who lives on another node joins that user there.
 *
 * The socket stays where it is, everything else moves: the node holding the socket (the near
 * side) passes the client's lines, unread, to the user's node through that node's inbox, and
 * writes to the socket whatever comes back through its own. On the user's node (the far side)
 * the connection is an ordinary further connection of the user (multiclient.ts): a Session whose
 * Connection is a `RelayedConnection`, so capabilities, labels, flood control, echo and
 * liveness (PING) work as for a local one. One place decides, so a user's commands are still
 * run one at a time, whichever node their connections are on.
 *
 * Order: each direction is one inbox log, so lines and output keep their order. Loss: a link
 * whose inbox lost entries (a gap), whose send failed, or whose other node's lease lapsed is
 * ended on both sides (the client reconnects), never left half working. Limits: the near side
 * applies flood control and the per-address counts (the connection is its), the far side its own
 * flood control again; SendQ is the near side's socket's.
 */
import { foldCase } from '../protocol/index.js';
import * as N from '../protocol/numerics.js';
import type { RelayAttach, RelayDownEvent, RelayUpEvent } from '../cluster/events.js';
import type { UserRecord } from '../cluster/state.js';
import type { Connection } from './connection.js';
import { attachConnection } from './multiclient.js';
import type { Server } from './server.js';
import type { Session } from './session.js';

/** Output gathered for one send; a burst above it goes at once rather than as one huge event. */
const FLUSH_BYTES = 64 * 1024;
/** How often, at most, the other ends' leases are checked while links exist. */
const PEER_CHECK_MS = 2000;

/** The near side's state of a session whose user lives on another node. */
export interface RelayLink {
  /** The user's node, and the link's network-unique id. */
  readonly node: string;
  readonly id: string;
  /** Input lines not sent yet (latin1). */
  lines: string[];
  /** Set once the far side ended the link: nothing more is sent. */
  endedThere: boolean;
}

export class Relays {
  /** Near side: sessions here whose user lives on another node, by link id. */
  private readonly near = new Map<string, Session>();
  /** Far side: connections of users here whose socket is on another node, by link id. */
  private readonly far = new Map<string, RelayedConnection>();
  private lastPeerCheck = 0;

  constructor(private readonly server: Server) {}

  /** Sessions relayed to other nodes (the near side's count, for LUSERS 253). */
  get relayedOut(): number {
    return this.near.size;
  }

  /** Further connections of users here whose sockets are on other nodes. */
  get relayedIn(): number {
    return this.far.size;
  }

  // --- near side ---

  /**
   * Registration found the nick held by `record`, a user on another node: if `session` is
   * logged in to that user's account, it goes to join the user there (true: from now on its
   * lines are relayed); else false and the caller refuses the nick.
   */
  offer(session: Session, record: UserRecord): boolean {
    const { server } = this;
    if (!server.config.accounts.multiclient || session.accountKey === null || record.account === null) return false;
    if (foldCase(record.account) !== session.accountKey || session.state !== 'connecting') return false;
    const id = `${server.cluster.nodes.id}.${session.id}`;
    const attach: RelayAttach = {
      uid: record.uid,
      nick: session.nick,
      account: session.account!,
      caps: [...session.caps],
      capVersion: session.capVersion,
      address: session.conn.remoteAddress,
      secure: session.conn.secure,
      transport: session.conn.transport,
    };
    // The nick is the user's: this connection holds nothing here any more.
    if (session.nickKey && server.nicks.get(session.nickKey) === session) server.nicks.delete(session.nickKey);
    session.nickKey = '';
    session.link = { node: record.node, id, lines: [], endedThere: false };
    this.near.set(id, session);
    this.sendUp(session, { attach });
    server.logger.debug('connection relayed to its user\'s node', { session: session.id, node: record.node, link: id });
    return true;
  }

  /** A line of a relayed session's client, after flood control here: sent on with the others of this turn. */
  forward(session: Session, line: Buffer): void {
    const link = session.link!;
    if (link.lines.length === 0) setImmediate(() => this.flushUp(session));
    link.lines.push(line.toString('latin1'));
  }

  /** A relayed session ended here (the client left, SendQ, a shutdown): the far side is told. */
  ended(session: Session, reason: string): void {
    const link = session.link!;
    this.near.delete(link.id);
    if (!link.endedThere) this.sendUp(session, { end: reason });
  }

  private flushUp(session: Session): void {
    const link = session.link;
    if (!link || link.lines.length === 0 || link.endedThere || session.state === 'closing') return;
    this.sendUp(session, {});
  }

  /** One event up the link, carrying every line waiting. */
  private sendUp(session: Session, fields: Pick<RelayUpEvent, 'attach' | 'end'>): void {
    const link = session.link!;
    const event: RelayUpEvent = { v: 1, origin: this.server.cluster.nodes.id, kind: 'relay-up', link: link.id, ...fields };
    if (link.lines.length > 0) event.lines = link.lines.splice(0);
    this.server.cluster.bus.send(link.node, event).catch((err: unknown) => {
      this.server.logger.warn('cluster: relayed connection lost its link', { link: link.id, err });
      if (session.state !== 'closing') this.server.quit(session, 'Lost the link to the server of this session; please reconnect');
    });
  }

  /** Output from the user's node for a session here, or the link's end. */
  applyDown(event: RelayDownEvent): void {
    if (typeof event.link !== 'string' || (event.data !== undefined && typeof event.data !== 'string')) return;
    const session = this.near.get(event.link);
    if (!session || session.state === 'closing') return;
    const { conn } = session;
    if (event.data) {
      const bytes = Buffer.from(event.data, 'latin1');
      if (conn.queuedBytes + bytes.length > this.server.config.limits.sendq_bytes) {
        this.server.metrics.sendqDrop();
        this.server.drop(session, 'SendQ exceeded');
        return;
      }
      conn.write(bytes);
    }
    if (event.end === 'refused') return this.refused(session, strings(event.lines));
    if (event.end === undefined) return;
    session.link!.endedThere = true;
    if (event.end === 'close') conn.close();
    else conn.destroy();
    this.server.forget(session, 'Connection closed');
  }

  /** It may not join the user (433 came with it): registration goes on here, with the input that went up meanwhile. */
  private refused(session: Session, lines: string[]): void {
    const link = session.link!;
    this.near.delete(link.id);
    session.link = null;
    session.nick = '*';
    // What went up first comes back first; then what had not been sent yet.
    for (const line of [...lines, ...link.lines]) {
      if (session.state === 'closing') return;
      session.processLine(Buffer.from(line, 'latin1'));
    }
  }

  // --- far side ---

  /** A line, an attach or an end from a connection whose socket is on another node. */
  applyUp(event: RelayUpEvent): void {
    if (typeof event.link !== 'string') return;
    if (event.attach && !this.far.has(event.link) && validAttach(event.attach)) {
      this.attach(event.origin, event.link, event.attach).catch((err: unknown) => {
        this.server.logger.error('cluster: relayed connection could not join its user', { link: event.link, err });
        const conn = this.far.get(event.link);
        if (conn?.session) this.server.quit(conn.session, 'The server could not join this connection to its session; please reconnect');
      });
    }
    const conn = this.far.get(event.link);
    if (!conn) return; // ended or refused here: its late input goes nowhere
    for (const line of strings(event.lines)) conn.input(Buffer.from(line, 'latin1'));
    if (event.end !== undefined) this.closedThere(conn, String(event.end));
  }

  private async attach(node: string, link: string, attach: RelayAttach): Promise<void> {
    const { server } = this;
    const conn = new RelayedConnection(this, server, node, link, attach);
    this.far.set(link, conn);
    const session = server.adoptRelayed(conn);
    conn.session = session;
    session.nick = attach.nick;
    session.nickKey = foldCase(attach.nick);
    session.account = attach.account;
    session.accountKey = foldCase(attach.account);
    for (const cap of attach.caps) session.addCap(cap);
    session.capVersion = attach.capVersion;
    session.updateView();
    const user = server.findNick(attach.nick);
    let joined = false;
    if (server.config.accounts.multiclient && user && user.uid === attach.uid && user.principal === null) {
      session.attachTo = user;
      joined = await attachConnection(server, session);
    } else {
      session.numeric(N.ERR_NICKNAMEINUSE, attach.nick, 'Nickname is already in use');
    }
    if (!joined) {
      conn.refuse();
      return;
    }
    if (session.registered) conn.attached();
  }

  /** The near side says the socket ended. */
  private closedThere(conn: RelayedConnection, reason: string): void {
    conn.endedThere = true;
    this.far.delete(conn.link);
    if (conn.session) this.server.connectionClosed(conn.session, reason);
  }

  /** A far-side connection stopped (closed, refused, or lost its link). */
  forgetFar(conn: RelayedConnection): void {
    this.far.delete(conn.link);
  }

  // --- both sides ---

  /**
   * This node's inbox lost entries (trimmed, or Redis restarted): some link's lines or output
   * may be among them, so every link ends; their clients reconnect.
   */
  inboxGap(): void {
    for (const conn of [...this.far.values()]) this.closedThere(conn, 'Lost part of the link to the client\'s server');
    for (const session of [...this.near.values()]) this.server.quit(session, 'Lost part of the link to the server of this session; please reconnect');
  }

  /** From the sweep: links whose other node has no lease any more end (it died, or was fenced). */
  checkPeers(now: number): void {
    if ((this.near.size === 0 && this.far.size === 0) || now - this.lastPeerCheck < PEER_CHECK_MS) return;
    this.lastPeerCheck = now;
    this.server.cluster.nodes.peers().then((peers) => {
      const live = new Set(peers);
      for (const conn of [...this.far.values()]) if (!live.has(conn.node)) this.closedThere(conn, 'Its server went away');
      for (const session of [...this.near.values()]) {
        if (!live.has(session.link!.node)) this.server.quit(session, 'The server of this session went away; please reconnect');
      }
    }, (err: unknown) => this.server.logger.debug('cluster: relay peer check failed', { err }));
  }
}

/** What another node sent as lines: strings only (a newer or broken node cannot throw here). */
function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((line): line is string => typeof line === 'string') : [];
}

function validAttach(a: RelayAttach): boolean {
  return typeof a.uid === 'string' && typeof a.nick === 'string' && typeof a.account === 'string' && typeof a.address === 'string' &&
    Array.isArray(a.caps) && a.caps.every((cap) => typeof cap === 'string');
}

/**
 * The far side's Connection for a client whose socket is on another node: writes are gathered
 * per event-loop turn and sent down the link; input comes from `Relays.applyUp`. Until the
 * connection has joined its user, input waits (the welcome reads the shared state).
 */
export class RelayedConnection implements Connection {
  readonly relayed = true;
  readonly remoteAddress: string;
  readonly secure: boolean;
  readonly transport: Connection['transport'];
  session: Session | null = null;
  /** Set once the near side ended the link: nothing more is sent. */
  endedThere = false;
  private out: string[] = [];
  private outBytes = 0;
  private held: Buffer[] | null = [];
  private heldBytes = 0;
  private ended = false;

  constructor(
    private readonly relays: Relays,
    private readonly server: Server,
    readonly node: string,
    readonly link: string,
    attach: RelayAttach,
  ) {
    this.remoteAddress = attach.address;
    this.secure = attach.secure;
    this.transport = attach.transport;
  }

  get queuedBytes(): number {
    return this.outBytes;
  }

  write(data: Buffer): void {
    if (this.ended) return;
    if (this.out.length === 0) setImmediate(() => this.flush());
    this.out.push(data.toString('latin1'));
    this.outBytes += data.length;
    if (this.outBytes >= FLUSH_BYTES) this.flush();
  }

  close(): void {
    this.end('close');
  }

  destroy(): void {
    this.end('destroy');
  }

  // The near side's flood control and SendQ hold its socket back; there is nothing to pause here.
  pauseReading(): void {}
  resumeReading(): void {}

  /** A line of the client's. */
  input(line: Buffer): void {
    if (this.held === null) {
      this.session?.handleLine(line);
      return;
    }
    // Bounded like a local backlog (limits.recvq_bytes): a client that floods before its welcome ends.
    this.heldBytes += line.length + 2;
    if (this.heldBytes > this.server.config.limits.recvq_bytes) return this.overflow();
    this.held.push(line);
  }

  private overflow(): void {
    const session = this.session!;
    this.write(Buffer.from(`ERROR :Closing Link: ${session.host} (Excess flood)\r\n`));
    session.state = 'closing';
    this.server.sessions.delete(session);
    this.held = null;
    this.end('close');
  }

  /** The connection joined its user: input that waited runs now, in order. */
  attached(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const line of held) this.session!.handleLine(line);
  }

  /** It may not join (the 433 is in the output): the near side gets its input back to go on there. */
  refuse(): void {
    const session = this.session!;
    session.state = 'closing';
    this.server.sessions.delete(session);
    const lines = (this.held ?? []).map((line) => line.toString('latin1'));
    this.held = null;
    this.end('refused', lines);
  }

  private end(how: 'close' | 'destroy' | 'refused', lines?: string[]): void {
    if (this.ended) return;
    this.flush(how, lines);
    this.ended = true;
    this.relays.forgetFar(this);
  }

  private flush(end?: RelayDownEvent['end'], lines?: string[]): void {
    if (this.ended || this.endedThere || (this.out.length === 0 && end === undefined)) return;
    const { server } = this;
    const event: RelayDownEvent = { v: 1, origin: server.cluster.nodes.id, kind: 'relay-down', link: this.link };
    if (this.out.length > 0) event.data = this.out.join('');
    if (end !== undefined) event.end = end;
    if (lines !== undefined && lines.length > 0) event.lines = lines;
    this.out = [];
    this.outBytes = 0;
    server.cluster.bus.send(this.node, event).catch((err: unknown) => {
      if (this.ended || this.endedThere) return;
      server.logger.warn('cluster: relayed connection lost its link', { link: this.link, err });
      this.endedThere = true;
      this.relays.forgetFar(this);
      if (this.session) server.connectionClosed(this.session, 'Lost the link to the client\'s server');
    });
  }
}
