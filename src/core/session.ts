import { isUtf8 } from 'node:buffer';
import {
  fitLastParam,
  MAX_CLIENT_TAGS_BYTES,
  MAX_LINE_BYTES,
  MAX_PARAMS,
  MAX_TAGS_BYTES,
  ParseError,
  parseMessage,
  type IrcMessage,
  type Tags,
} from '../protocol/index.js';
import { ERR_INPUTTOOLONG } from '../protocol/numerics.js';
import type { TokenBucket } from '../limits/token-bucket.js';
import type { Connection } from './connection.js';
import { encodeForView, Outgoing, VIEW_ACCOUNT_TAG, VIEW_MESSAGE_TAGS, VIEW_MULTILINE, VIEW_SERVER_TIME } from './outgoing.js';
import { MULTILINE_CAP } from './multiline.js';
import { interceptMultiline, type OpenMultiline } from './multiline-input.js';
import type { Room } from './room.js';
import type { Server } from './server.js';
import type { SaslExchange } from './commands/sasl.js';
import type { RelayLink } from './relay.js';

export type RegistrationState = 'connecting' | 'registered' | 'closing';

/** One client connection: registration state, capabilities, identity, rooms, and its output. */
export class Session {
  /** Network-wide id (TS6 style, cluster/ids.ts): the key of this user's shared record. */
  readonly uid: string;
  /** Set once the nick is claimed network-wide (registration done): the shared record exists. */
  claimed = false;
  /** The removal of the shared record once the session ended (its nick is free when it settles). */
  removal: Promise<void> | null = null;
  nick = '*';
  /** Case-folded nick, the key in the server's nick table; '' until NICK is accepted. */
  nickKey = '';
  user = '';
  realname = '';
  /** The displayed host: the address, until an operator's CHGHOST (host-change.ts). */
  host: string;
  state: RegistrationState = 'connecting';
  /** Account name as registered (shown in tags and WHOIS), and its folded key. */
  account: string | null = null;
  accountKey: string | null = null;
  /** An AUTHENTICATE exchange in progress (commands/sasl.ts). */
  sasl: SaslExchange | null = null;
  /** Operator name from config once OPER succeeded. */
  oper: string | null = null;
  /**
   * Nick protection: the folded registered nick this session holds without being logged in to
   * it, and when it will be renamed unless it logs in (see Server.sweep).
   */
  protectedNick: { key: string; deadline: number } | null = null;
  /**
   * Registered nicks (folded) this session was renamed away from in timeout mode: it may not
   * take them back until it logs in (core/nick-protection.ts). Null until it first happens.
   */
  lostNicks: Set<string> | null = null;
  /** Set while registration waits on an async check (PASS login, is the nick registered?). */
  registering = false;
  away: string | null = null;
  /** Rooms this user was invited to (key -> name), oldest first, made on the first (invite-list.ts). */
  invitedTo: Map<string, string> | null = null;
  invisible = false;
  /** User mode +w: receives WALLOPS. */
  wallops = false;
  /** User mode +B (IRCv3 bot-mode): shown in WHOIS (335) and WHO (`B`), its messages tagged `bot`. */
  bot = false;
  /** Counted in Server.counts (set once registered); the counts are undone when it leaves. */
  counted = false;
  /**
   * draft/metadata-2: the keys this connection subscribed to (at most limits.metadata_max_subs),
   * and its bucket for METADATA SET/CLEAR on its own metadata; both made on first use.
   */
  metadataSubs: Set<string> | null = null;
  /** A draft/multiline batch being received (multiline-input.ts), and the last few refused. */
  multiline: OpenMultiline | null = null;
  refusedBatches: Set<string> | null = null;
  metadataBucket: TokenBucket | null = null;
  /** Server password given with PASS before registration. */
  password: string | null = null;
  /**
   * Capabilities and rooms: sets that most idle connections leave empty (a client that sent no
   * CAP, in no room). An empty Set costs about 150 bytes, so each is
   * made on first use and dropped again once empty; the getters below read them meanwhile.
   */
  private capSet: Set<string> | null = null;
  private roomSet: Set<Room> | null = null;
  /** Set while CAP negotiation holds registration back (CAP LS / REQ until CAP END). */
  capNegotiating = false;
  capVersion = 0;
  /** Which tags this client sees; see outgoing.ts. Recomputed when caps change. */
  view = 0;
  readonly connectedAt = Date.now();
  lastActivity = Date.now();
  /** Last PRIVMSG/NOTICE, for WHOIS idle time. */
  lastSpoke = Date.now();
  pingSent = false;

  private captured: Outgoing[] | null = null;
  /**
   * While a command waits on storage (login, history), or the client is over its command rate
   * or has not read its replies, later lines wait here so commands run in the order they were
   * sent. See core/input-gate.ts.
   */
  busy = false;
  readonly backlog: Buffer[] = [];
  /** Bytes waiting in the backlog, CRLF counted: what limits.recvq_bytes limits. */
  backlogBytes = 0;
  /** Flood control (fakelag); null for exempt addresses. */
  readonly throttle: TokenBucket | null;
  /** Set while the gate waits for a token or for output to drain. */
  drainTimer: NodeJS.Timeout | null = null;

  /**
   * Multiclient (core/multiclient.ts): one user, several connections. On a second connection of
   * a logged-in user, `principal` is the user it speaks for; its commands run as that user
   * (Server.dispatch) and it holds nothing of the user's identity. On the user, `attached` lists
   * those connections (null while there is only its own), `via` is the connection whose command
   * is running (replies and `has` go there), and `focus`, set by `eachConnection`, sends
   * everything to one connection. `connected` is false once the user's own first connection
   * ended while others remain: it is then a user without a connection of its own.
   */
  principal: Session | null = null;
  attached: Session[] | null = null;
  via: Session | null = null;
  private focus: Session | null = null;
  connected = true;
  /** While registering: the local user this connection will join if it logs in to its account (multiclient.ts). */
  attachTo: Session | null = null;
  /** Set once this connection joined a user on another node: its lines go there (relay.ts). */
  link: RelayLink | null = null;

  constructor(
    readonly id: number,
    /** Replaced by a closed stand-in once it ends while the user stays (multiclient.ts). */
    public conn: Connection,
    private readonly server: Server,
  ) {
    // IPv6 addresses starting with ':' would read as a trailing parameter in a prefix.
    const address = conn.remoteAddress;
    this.host = address.startsWith(':') ? `0${address}` : address;
    this.throttle = server.input.bucketFor(address);
    this.uid = server.cluster.nodes.newUid();
  }

  get registered(): boolean {
    return this.state === 'registered';
  }

  get prefix(): string {
    return `${this.nick}!${this.user}@${this.host}`;
  }

  /** The capabilities of the connection acting now (the one whose command runs), else its own. */
  get caps(): ReadonlySet<string> {
    return (this.focus ?? this.via ?? this).capSet ?? EMPTY;
  }

  /** Does this connection itself (not the one acting for its user) have `cap`? */
  private hasHere(cap: string): boolean {
    return this.capSet !== null && this.capSet.has(cap);
  }

  addCap(cap: string): void {
    this.capSet = added(this.capSet, cap);
  }

  removeCap(cap: string): void {
    this.capSet = removed(this.capSet, cap);
  }

  /** The rooms this session is in; Server.removeFromRoom and join keep it in step with Room.members. */
  get rooms(): ReadonlySet<Room> {
    return this.roomSet ?? EMPTY;
  }

  addRoom(room: Room): void {
    this.roomSet = added(this.roomSet, room);
  }

  removeRoom(room: Room): void {
    this.roomSet = removed(this.roomSet, room);
  }

  has(cap: string): boolean {
    return this.caps.has(cap);
  }

  updateView(): void {
    this.view =
      (this.hasHere('server-time') ? VIEW_SERVER_TIME : 0) |
      (this.hasHere('message-tags') ? VIEW_MESSAGE_TAGS : 0) |
      (this.hasHere('account-tag') ? VIEW_ACCOUNT_TAG : 0) |
      (this.hasHere(MULTILINE_CAP) && this.hasHere('batch') ? VIEW_MULTILINE : 0);
  }

  /**
   * A reply to this client's own command, to the connection that sent it (several connections:
   * multiclient.ts); outside a command, to every connection of the user. Not counted against SendQ.
   */
  send(out: Outgoing): void {
    const to = this.focus ?? this.via;
    if (to !== null) return to.replyHere(out);
    this.replyHere(out);
    if (this.attached !== null) for (const connection of this.attached) connection.replyHere(out);
  }

  /** A reply made for this client alone: encoded directly, unless a labeled capture keeps it. */
  sendMessage(message: IrcMessage): void {
    const to = this.focus ?? this.via;
    if (to !== null) return to.messageHere(message);
    this.messageHere(message);
    if (this.attached !== null) for (const connection of this.attached) connection.messageHere(message);
  }

  private replyHere(out: Outgoing): void {
    if (this.state === 'closing') return;
    if (this.captured) this.captured.push(out);
    else this.conn.write(out.encode(this.view));
  }

  private messageHere(message: IrcMessage): void {
    if (this.state === 'closing') return;
    if (this.captured) this.captured.push(new Outgoing(message));
    else this.conn.write(encodeForView(message, this.view));
  }

  /** A numeric from the server, addressed to this client's nick; within 512 bytes (line-fit.ts). */
  numeric(code: string, ...params: string[]): void {
    const source = this.server.name;
    const nick = (this.principal ?? this).nick;
    this.sendMessage({ source, command: code, params: fitLastParam(source, code, [nick, ...params]) });
  }

  /** A standard reply (FAIL/WARN/NOTE), per IRCv3 standard-replies. */
  standardReply(type: 'FAIL' | 'WARN' | 'NOTE', params: string[]): void {
    this.sendMessage({ source: this.server.name, command: type, params });
  }

  /**
   * Something another user caused (a room message, a JOIN), to every connection of the user.
   * Counted against SendQ: a client that does not read is dropped instead of growing the
   * server's memory.
   */
  deliver(out: Outgoing): void {
    if (this.focus !== null) return this.focus.deliverHere(out);
    this.deliverHere(out);
    if (this.attached !== null) for (const connection of this.attached) connection.deliverHere(out);
  }

  /** `deliver`, to those connections of the user that negotiated `cap`. */
  deliverIf(cap: string, out: Outgoing): void {
    if (this.focus !== null) {
      if (this.focus.hasHere(cap)) this.focus.deliverHere(out);
      return;
    }
    if (this.hasHere(cap)) this.deliverHere(out);
    if (this.attached !== null) for (const connection of this.attached) if (connection.hasHere(cap)) connection.deliverHere(out);
  }

  /** `deliver` of `withCap` to the connections that negotiated `cap`, of `without` to the others. */
  deliverEither(cap: string, withCap: Outgoing, without: Outgoing): void {
    if (this.focus !== null) return this.focus.deliverHere(this.focus.hasHere(cap) ? withCap : without);
    this.deliverHere(this.hasHere(cap) ? withCap : without);
    if (this.attached !== null) for (const connection of this.attached) connection.deliverHere(connection.hasHere(cap) ? withCap : without);
  }

  /**
   * The user's own message (or REDACT): the connection it came from (`from`; null once gone)
   * gets it with echo-message, as a reply; the user's other connections always, as a delivery,
   * so every device shows what was said. `needs`: a capability every receiver must have.
   */
  echo(out: Outgoing, from: Session | null = this.via ?? this, needs?: string): void {
    if (from !== null && from.hasHere('echo-message') && (needs === undefined || from.hasHere(needs))) from.replyHere(out);
    if (this.attached === null) return;
    for (const connection of this.connections()) {
      if (connection !== from && (needs === undefined || connection.hasHere(needs))) connection.deliverHere(out);
    }
  }

  /** `deliverIf` to the user's connections other than the one acting now: what it did, shown elsewhere. */
  deliverToOthers(cap: string, out: Outgoing): void {
    if (this.attached === null) return;
    const acting = this.via ?? this;
    for (const connection of this.connections()) if (connection !== acting && connection.hasHere(cap)) connection.deliverHere(out);
  }

  /**
   * Runs `show` once per connection of the user, each time with everything (replies, deliveries,
   * `has`) going to that one connection: for what each device must see by itself, like the
   * JOIN, topic and NAMES of a room the user joined from another one.
   */
  eachConnection(show: () => void): void {
    if (this.attached === null) return show();
    for (const connection of this.connections()) this.showTo(connection, show);
  }

  /** Runs `show` with everything going to `connection` (this user's own, or one attached). */
  showTo(connection: Session, show: () => void): void {
    const saved = this.focus;
    this.focus = connection;
    try {
      show();
    } finally {
      this.focus = saved;
    }
  }

  /** The user's connections: its own (while it has one), then the attached ones. */
  connections(): Session[] {
    const own: Session[] = this.connected ? [this] : [];
    return this.attached === null ? own : own.concat(this.attached);
  }

  /** The user's connection numbered `id` (Session.id), or null once it has gone. */
  connectionWithId(id: number): Session | null {
    return this.connections().find((connection) => connection.id === id) ?? null;
  }

  private deliverHere(out: Outgoing): void {
    if (this.state === 'closing') return;
    if (out.needsMessageTags && (this.view & VIEW_MESSAGE_TAGS) === 0) return;
    const bytes = out.encode(this.view);
    if (this.conn.queuedBytes + bytes.length > this.server.config.limits.sendq_bytes) {
      this.server.metrics.sendqDrop();
      this.server.drop(this, 'SendQ exceeded');
      return;
    }
    this.conn.write(bytes);
  }

  /** The transport dropped a line longer than any valid message. */
  lineTooLong(): void {
    this.numeric(ERR_INPUTTOOLONG, 'Input line was too long');
  }

  /** Entry point for the transport: one line of bytes, without CR/LF. Flood control (input-gate.ts) runs it. */
  handleLine(line: Buffer): void {
    if (this.state === 'closing') return;
    this.lastActivity = Date.now();
    this.pingSent = false;
    this.server.input.receive(this, line);
  }

  /** A line's turn has come: length limits, UTF-8 policy, parse, dispatch. */
  processLine(line: Buffer): void {
    if (this.link !== null) return this.server.relays.forward(this, line);
    if (!withinLengthLimits(line)) {
      this.lineTooLong();
      return;
    }
    const text = line.toString('utf8');
    // Policy (docs/architecture.md): invalid UTF-8 is rejected, never relayed or repaired.
    if (!isUtf8(line)) {
      const command = (text.startsWith('@') ? text.split(' ')[1] : text.split(' ')[0]) ?? '*';
      this.standardReply('FAIL', [
        /^[A-Za-z]+$/.test(command) ? command.toUpperCase() : '*',
        'INVALID_UTF8',
        'Message rejected: it contains invalid UTF-8',
      ]);
      return;
    }
    // NUL and a bare CR are not allowed inside a message (modern.ircdocs.horse); relayed, a CR
    // would let the sender forge a whole line at recipients that split on CR.
    if (line.indexOf(0) !== -1 || line.indexOf(13) !== -1) {
      this.standardReply('FAIL', ['*', 'INVALID_MESSAGE', 'Message rejected: it contains NUL or CR']);
      return;
    }
    let message: IrcMessage | null;
    try {
      message = parseMessage(text);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      this.standardReply('FAIL', ['*', 'INVALID_MESSAGE', `Message could not be parsed: ${err.message}`]);
      return;
    }
    if (message && message.params.length > MAX_PARAMS) {
      const command = /^[A-Z]+$/.test(message.command) ? message.command : '*';
      this.standardReply('FAIL', [command, 'INVALID_MESSAGE', `Too many parameters (at most ${MAX_PARAMS})`]);
      return;
    }
    if (message && !interceptMultiline(this.server, this, message)) this.server.dispatch(this, message);
  }

  /**
   * labeled-response: collect everything sent to this client while its command runs, then send it
   * with the label (one message), as an ACK (none), or in a labeled-response batch (several).
   * Returns the function that ends the capture; the command may finish asynchronously.
   */
  beginLabeled(label: string | undefined): () => void {
    if (label === undefined || !this.hasHere('labeled-response')) return noop;
    const captured: Outgoing[] = [];
    this.captured = captured;
    return () => {
      this.captured = null;
      this.sendLabeled(label, captured);
    };
  }

  private sendLabeled(label: string, captured: Outgoing[]): void {
    const server = this.server.name;
    // An echo of a message the store then refused is not sent (core/history: withdraw).
    const replies = captured.some((reply) => reply.withdrawn) ? captured.filter((reply) => !reply.withdrawn) : captured;
    if (replies.length === 0) {
      this.messageHere({ tags: { label }, source: server, command: 'ACK', params: [] });
    } else if (replies.length === 1 || !this.hasHere('batch')) {
      const [first, ...rest] = replies;
      this.messageHere(first!.withExtraTags(this.view, { label }));
      for (const reply of rest) this.replyHere(reply);
    } else {
      const id = this.server.nextBatchId();
      this.messageHere({ tags: { label }, source: server, command: 'BATCH', params: [`+${id}`, 'labeled-response'] });
      const batchTag: Tags = { batch: id };
      for (const reply of replies) this.messageHere(reply.withExtraTags(this.view, batchTag));
      this.messageHere({ source: server, command: 'BATCH', params: [`-${id}`] });
    }
  }
}

const noop = () => {};
/** What the set getters return before the first add: shared, and read-only by type. */
const EMPTY: ReadonlySet<never> = new Set();

/** A set made on first use: `set` with `value` added. */
function added<T>(set: Set<T> | null, value: T): Set<T> {
  return (set ?? new Set<T>()).add(value);
}

/** `set` without `value`; null once it is empty, so an idle session holds no empty Set. */
function removed<T>(set: Set<T> | null, value: T): Set<T> | null {
  if (set === null) return null;
  set.delete(value);
  return set.size === 0 ? null : set;
}

/** Tags may take 8191 bytes (4094 from a client), the rest 512 with CRLF (IRCv3 message-tags). */
function withinLengthLimits(line: Buffer): boolean {
  let rest = line.length;
  if (line[0] === 64 /* @ */) {
    const space = line.indexOf(32);
    if (space === -1) return rest <= MAX_TAGS_BYTES;
    if (space > MAX_CLIENT_TAGS_BYTES + 1) return false;
    rest -= space + 1;
  }
  return rest <= MAX_LINE_BYTES - 2;
}
