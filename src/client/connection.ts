/**
 * The connection half of the engine: connect, register, read lines, requests, liveness,
 * reconnect with back-off. IrcClient (client.ts) adds the chat on top.
 */
import { parseMessage, serializeMessage, type IrcMessage } from '../protocol/index.js';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import { Batches, type Batch } from './batches.js';
import { joinMultiline, MULTILINE_CAP as MULTILINE_BATCH } from './multiline.js';
import { Emitter } from './emitter.js';
import type { ChatMessage, ClientEvents } from './events.js';
import { HistoryTracker } from './history.js';
import { Inbox } from './inbox.js';
import { Isupport } from './isupport.js';
import { Liveness } from './liveness.js';
import { toChatMessage } from './messages.js';
import type { ClientOptions, SaslCredentials } from './options.js';
import { negotiate, WANTED_CAPS } from './registration.js';
import { Requests, type RequestPurpose } from './requests.js';
import { ClientState } from './state.js';
import type { TransportConnection } from './transport.js';

export type ClientStatus = 'idle' | 'connecting' | 'registering' | 'ready' | 'waiting' | 'closed';

export abstract class ClientConnection {
  readonly isupport = new Isupport();
  readonly state = new ClientState(this.isupport);
  /** Caps in effect on this connection. */
  readonly caps = new Set<string>();
  /** What the server offers, with values (`sasl` -> `PLAIN,SCRAM-SHA-256`). */
  readonly offeredCaps = new Map<string, string>();
  readonly wantedCaps: string[];
  nick: string;
  /** The nick we want: the one we asked for or last chose; reconnects ask for it again. */
  desiredNick: string;
  account: string | null = null;
  /** Our away message; kept across reconnects. */
  away: string | null = null;
  status: ClientStatus = 'idle';
  registered = false;
  /** The goodbye text of the last ERROR line. */
  serverError: string | null = null;
  /** Used to log in while connecting; set by a successful login or registration too. */
  saslCredentials: SaslCredentials | null;
  /** @internal */ readonly emitter: Emitter<ClientEvents>;
  /** @internal */ readonly tracker = new HistoryTracker();
  private readonly batches = new Batches();
  private readonly requests = new Requests(this.batches);
  private readonly inboxes = new Set<Inbox>();
  private readonly awaited = new Map<string, number>();
  private readonly liveness: Liveness;
  private conn: TransportConnection | null = null;
  private closing = false;
  private dropReason: string | null = null;
  private attempt = 0;
  private everReady = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly options: ClientOptions) {
    this.nick = this.desiredNick = options.nick;
    this.wantedCaps = options.caps ?? WANTED_CAPS;
    this.saslCredentials = options.sasl ?? null;
    this.emitter = new Emitter(options.onListenerError);
    const liveness = options.liveness === false ? null : (options.liveness ?? { idleMs: 60_000, timeoutMs: 30_000 });
    this.liveness = new Liveness(
      liveness,
      (token) => this.send(`PING ${token}`),
      (reason) => this.drop(reason),
    );
  }

  /** Handle one line outside chathistory batches (dispatch.ts). */
  protected abstract handle(message: IrcMessage): void;
  /** Registered and through the welcome burst. */
  protected abstract onReady(reconnected: boolean): void;

  on<K extends keyof ClientEvents>(name: K, listener: (payload: ClientEvents[K]) => void): () => void {
    return this.emitter.on(name, listener);
  }

  once<K extends keyof ClientEvents>(name: K, listener: (payload: ClientEvents[K]) => void): () => void {
    return this.emitter.once(name, listener);
  }

  get connected(): boolean {
    return this.conn !== null;
  }

  /** Start connecting (and keep reconnecting per options.reconnect). */
  connect(): void {
    if (this.conn) return;
    clearTimeout(this.reconnectTimer);
    this.closing = false;
    this.status = 'connecting';
    this.serverError = null;
    this.dropReason = null;
    const conn = this.options.transport.connect({
      onOpen: () => {
        if (this.conn !== conn) return;
        this.status = 'registering';
        this.liveness.start();
        this.startRegistration();
      },
      onLine: (line) => {
        if (this.conn === conn) this.handleLine(line);
      },
      onClose: (error) => {
        if (this.conn === conn) this.connectionClosed(error);
      },
    });
    this.conn = conn;
  }

  /** Sign off: QUIT, then wait (bounded) for the server to close. Resolves with its goodbye text. */
  async quit(reason = 'Leaving'): Promise<string | null> {
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    const conn = this.conn;
    if (!conn) {
      this.status = 'closed';
      return null;
    }
    const closed = new Promise<void>((resolve) => this.once('disconnected', () => resolve()));
    this.sendMessage({ command: 'QUIT', params: [reason] });
    const timer = setTimeout(() => conn.close(), 3000);
    await closed;
    clearTimeout(timer);
    return this.serverError;
  }

  /** Close now, without QUIT, and stop reconnecting. */
  close(): void {
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    if (this.conn) this.conn.close();
    else this.status = 'closed';
  }

  /** Send a raw line (no CR LF). Dropped when not connected. */
  send(line: string): void {
    this.conn?.send(line);
  }

  sendMessage(message: IrcMessage): void {
    this.send(serializeMessage(message).slice(0, -2));
  }

  /**
   * Send a command and resolve with the lines that answer it (labeled-response when the server
   * has it; see requests.ts). Rejects when not connected, on timeout, or if the connection drops.
   */
  request(line: string, options: { timeoutMs?: number; purpose?: RequestPurpose } = {}): Promise<IrcMessage[]> {
    if (!this.conn || !this.registered) return Promise.reject(new Error('not connected'));
    const labeled = this.caps.has('labeled-response');
    const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs ?? 15_000;
    return this.requests.start(line, (l) => this.send(l), labeled, timeoutMs, options.purpose);
  }

  /** Buffer incoming messages matching `matches` until the inbox is closed (see inbox.ts). */
  inbox(matches: (m: IrcMessage) => boolean): Inbox {
    const inbox = new Inbox(matches, (i) => this.inboxes.delete(i));
    if (!this.conn) inbox.fail(new Error('not connected'));
    else this.inboxes.add(inbox);
    return inbox;
  }

  /** The next message matching `matches`, or a rejection after `timeoutMs`. */
  async waitFor(matches: (m: IrcMessage) => boolean, timeoutMs = 10_000): Promise<IrcMessage> {
    const inbox = this.inbox(matches);
    try {
      return await inbox.next(timeoutMs);
    } finally {
      inbox.close();
    }
  }

  /** @internal While a flow awaits `command`'s FAIL replies itself, they are not `error` events. */
  awaiting(command: string): () => void {
    this.awaited.set(command, (this.awaited.get(command) ?? 0) + 1);
    return () => this.awaited.set(command, (this.awaited.get(command) ?? 1) - 1);
  }

  /** @internal */
  isAwaited(command: string): boolean {
    return (this.awaited.get(command) ?? 0) > 0;
  }

  isSelf(nick: string): boolean {
    return this.isupport.fold(nick) === this.isupport.fold(this.nick);
  }

  /** @internal End of the welcome burst (end of MOTD). */
  becomeReady(): void {
    if (this.status === 'ready') return;
    this.status = 'ready';
    const reconnected = this.everReady;
    this.everReady = true;
    this.attempt = 0;
    this.onReady(reconnected);
    this.emitter.emit('connected', { nick: this.nick, account: this.account, caps: [...this.caps], reconnected });
  }

  private startRegistration(): void {
    this.registered = false;
    this.nick = this.desiredNick;
    this.send('CAP LS 302');
    if (this.options.serverPassword) this.sendMessage({ command: 'PASS', params: [this.options.serverPassword] });
    this.sendMessage({ command: 'NICK', params: [this.nick] });
    const username = (this.options.username ?? this.desiredNick).replace(/[^A-Za-z0-9._-]/g, '').slice(0, 10) || 'parley';
    this.sendMessage({ command: 'USER', params: [username, '0', '*', this.options.realname ?? this.desiredNick] });
    void negotiate(this);
  }

  private handleLine(line: string): void {
    this.liveness.received();
    let message: IrcMessage | null;
    try {
      message = parseMessage(line);
    } catch (err) {
      this.emitter.emit('error', { kind: 'protocol', text: `unreadable line from the server: ${(err as Error).message}` });
      return;
    }
    if (!message) return;
    try {
      this.emitter.emit('raw', message);
      for (const inbox of this.inboxes) if (inbox.matches(message)) inbox.push(message);
      if (message.command === 'BATCH') {
        const { started, ended } = this.batches.handle(message);
        if (started) this.requests.batchStarted(started);
        if (ended?.type === MULTILINE_BATCH) this.multilineEnded(ended);
        if (ended?.type === 'chathistory') this.deliverHistory(ended);
        if (ended) this.requests.batchEnded(ended);
        return;
      }
      const batch = this.batches.add(message);
      // A multiline batch's lines are handled together, as one message, when it ends.
      if (this.batches.enclosing(batch, MULTILINE_BATCH)) return;
      if (!this.batches.enclosing(batch, 'chathistory')) this.handle(message);
      this.requests.observe(message);
    } catch (err) {
      // Whatever the server sent, the client goes on; the line is reported and dropped.
      this.emitter.emit('error', { kind: 'protocol', command: message.command, text: `could not handle ${message.command}: ${(err as Error).message}` });
    }
  }

  /** A finished multiline batch: one message, live or as a line of the history batch around it. */
  private multilineEnded(batch: Batch): void {
    const message = joinMultiline(batch);
    if (!message) return;
    const parent = this.batches.add(message);
    if (!this.batches.enclosing(parent, 'chathistory')) this.handle(message);
    this.requests.observe(message);
  }

  /** A finished chathistory batch as one `history` event, without messages already seen. */
  private deliverHistory(batch: Batch): void {
    const messages: ChatMessage[] = [];
    for (const line of batch.messages) {
      if (line.tags?.batch !== batch.id) continue;
      const message = toChatMessage(line, this.nick, this.isupport);
      if (message && this.tracker.see(this.isupport.fold(message.conversation), message)) messages.push(message);
    }
    if (messages.length === 0) return;
    this.emitter.emit('history', { target: batch.params[0] ?? '', messages, reason: this.requests.purposeOf(batch) ?? 'join' });
  }

  private connectionClosed(error: string | null): void {
    const reason = this.dropReason ?? this.serverError ?? error ?? 'the server closed the connection';
    this.conn = null;
    this.registered = false;
    this.account = null;
    this.liveness.stop();
    const gone = new Error(`disconnected: ${reason}`);
    for (const inbox of [...this.inboxes]) inbox.fail(gone);
    this.inboxes.clear();
    this.requests.failAll(gone);
    this.batches.clear();
    this.caps.clear();
    this.state.disconnected();
    const backoff = this.options.reconnect === false ? null : { ...DEFAULT_BACKOFF, ...this.options.reconnect };
    this.attempt++;
    const neverWorked = !this.everReady && this.options.retryFirstConnection === false;
    if (this.closing || !backoff || neverWorked || this.attempt > backoff.maxAttempts) {
      this.status = 'closed';
      this.emitter.emit('disconnected', { reason, willReconnect: false });
      return;
    }
    const delayMs = backoffDelay(this.attempt, backoff, this.options.random);
    this.status = 'waiting';
    this.emitter.emit('disconnected', { reason, willReconnect: true });
    this.emitter.emit('reconnecting', { attempt: this.attempt, delayMs });
    this.reconnectTimer = setTimeout(() => this.connect(), delayMs);
  }

  /** Drop a connection that looks dead; the usual reconnect follows. */
  private drop(reason: string): void {
    this.dropReason = reason;
    this.conn?.close();
  }
}
