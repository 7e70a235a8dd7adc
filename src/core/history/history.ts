import type { Config } from '../../config/schema.js';
import type { Logger } from '../../observability/logger.js';
import { noopMetrics, type ServerMetrics } from '../../observability/metrics.js';
import type { HistoryStore, StoredMessage } from '../../store/store.js';
import { failError } from '../errors.js';
import { encodeForView, type Outgoing } from '../outgoing.js';
import type { Session } from '../session.js';
import { Retention } from './retention.js';

/** A store that can commit synchronously (SQLite). Detected at run time; see History.commit. */
type AppendSync = (messages: StoredMessage[]) => void;

const NO_TAGS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** The description of FAIL <command> TEMPORARILY_UNAVAILABLE <target>: the message was not stored, so not sent. */
export const NOT_STORED = 'Message not sent: the server cannot store messages right now';
/** Refused before storing: an asynchronous store has fallen this far behind (back-pressure). */
export const STORE_BEHIND = 'Message not sent: the server is storing messages slower than they arrive; try again shortly';

/** Messages an asynchronous store may have waiting for their commit; more are refused. */
const MAX_WAITING_MESSAGES = 20_000;

/** What the writer needs from outside the core when a commit fails; app.ts wires the transport's. */
export interface RefusalOutput {
  /** Source of the FAIL replies. */
  readonly serverName: string;
  /** Drop these Buffer objects from every connection's output not yet written (transport/flush.ts). */
  discard(buffers: ReadonlySet<Buffer>): void;
}

/**
 * The history writer. The hot path only pushes to an in-memory batch (`recordRelay`), before
 * the message is delivered; the batch is committed once per event-loop turn, before that turn's
 * socket output is written (transport/flush.ts `addBeforeFlush`, wired in app.ts), and by its own
 * setImmediate for a turn without output. With a synchronous store the commit has reached the
 * database file before any client can see the message, so a message someone received survives
 * SIGKILL. A batch that cannot be committed is given up, and so are its deliveries: the bytes are
 * taken back from output not yet written and each sender gets FAIL (see `commit`).
 *
 * An asynchronous store (PostgreSQL: no `appendSync`) keeps the same rule another way: the hook
 * returns the commit's promise and the transport writes the turn's output only once it settled
 * (transport/flush.ts). One append is in flight at a time; what is recorded meanwhile goes into
 * the next one, so batches grow when the database is slow (group commit), and past
 * MAX_WAITING_MESSAGES new messages are refused (back-pressure).
 */
export class History {
  readonly retention: Retention;
  private batch: StoredMessage[] = [];
  /** Per message of `batch`: the relayed message and its sender, or null (`record`). */
  private relays: (Outgoing | null)[] = [];
  private senders: (Session | null)[] = [];
  private scheduled = false;
  private readonly appendSync: AppendSync | null;
  /** Async store: settles when the last append started has ended; queries wait for it. */
  private pending: Promise<void> = Promise.resolve();
  /** Async store: the append in flight (true once committed, false if given up), or null. */
  private appending: Promise<boolean> | null = null;
  /** Async store: the commit of what is recorded now, once the append in flight ends; null if none asked. */
  private next: { promise: Promise<boolean>; start: () => void } | null = null;
  /** Per message of `batch`: the caller answers a failure itself (a labeled message on an async store). */
  private answered: boolean[] = [];
  /** When the current outage began (Date.now()), 0 while commits succeed. */
  private failingSince = 0;
  /** Messages given up since the outage began, for the "recovered" log line. */
  private refused = 0;
  private output: RefusalOutput = { serverName: 'server', discard: () => {} };
  /** Told of every batch once it is committed (true) or given up (false): room messages' `stored` notices. */
  private committedListener: ((messages: readonly StoredMessage[], stored: boolean) => void) | null = null;
  private readonly onImmediate = () => {
    this.scheduled = false;
    this.commit();
  };

  constructor(
    readonly store: HistoryStore,
    config: Config['history'],
    private readonly logger: Logger,
    private readonly metrics: ServerMetrics = noopMetrics,
  ) {
    const sync = (store as { appendSync?: unknown }).appendSync;
    this.appendSync = typeof sync === 'function' ? (sync as AppendSync).bind(store) : null;
    this.retention = new Retention(this, config, logger);
  }

  /** Where refusals go (app.ts: the server's name and transport/flush.ts discardPending). */
  setOutput(output: RefusalOutput): void {
    this.output = output;
  }

  /** The one listener for committed and given-up batches (core/room-messages.ts). */
  onCommitted(listener: (messages: readonly StoredMessage[], stored: boolean) => void): void {
    this.committedListener = listener;
  }

  private tell(messages: readonly StoredMessage[], stored: boolean): void {
    if (!this.committedListener) return;
    try {
      this.committedListener(messages, stored);
    } catch (err) {
      this.logger.error('history: commit listener threw', { err });
    }
  }

  /** False from a failed commit until one succeeds again; /healthz reports it. */
  get healthy(): boolean {
    return this.failingSince === 0;
  }

  /** When the store began failing (ms since the epoch), or null while it commits. */
  get storeFailingSince(): number | null {
    return this.failingSince === 0 ? null : this.failingSince;
  }

  /** Queue one message for the next commit. No I/O, no promise. */
  record(message: StoredMessage, relay: Outgoing | null = null, sender: Session | null = null, answered = false): void {
    this.batch.push(message);
    this.relays.push(relay);
    this.senders.push(sender);
    this.answered.push(answered);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.onImmediate);
    }
  }

  /**
   * Back-pressure: an asynchronous store has MAX_WAITING_MESSAGES waiting for their commit, so a
   * new message is refused (FAIL TEMPORARILY_UNAVAILABLE) before anyone is given it. Room
   * messages of a cluster check it before they are published (room-messages.ts).
   */
  refuseIfBehind(command: string, target: string): void {
    if (this.appendSync === null && this.batch.length >= MAX_WAITING_MESSAGES) {
      throw failError(command, 'TEMPORARILY_UNAVAILABLE', target, STORE_BEHIND);
    }
  }

  /**
   * Hot path: record a relayed PRIVMSG/NOTICE as built by messaging.ts (its time, msgid and +
   * tags). Call it before anyone is given the message. Normally it only joins the batch. It is
   * committed at once instead when `now` is set (the sender's reply is labeled, so the outcome
   * must be known before that reply is put together) and while the store is failing (each
   * message is a fresh attempt: chat resumes with the first one the store can take, and until
   * then it is refused before anyone gets it). If that commit fails this throws
   * FAIL TEMPORARILY_UNAVAILABLE, and the caller delivers nothing.
   *
   * With an asynchronous store a labeled message cannot be committed at once: then this returns
   * a promise that rejects with that FAIL if its batch fails (its deliveries are withdrawn as
   * usual); the caller keeps the labeled reply open until it settles.
   */
  recordRelay(out: Outgoing, conversation: string, sender: Session, now = false): Promise<void> | void {
    const { tags, source, command, params } = out.message;
    this.refuseIfBehind(command, params[0]!);
    let clientTags: Record<string, string> | undefined;
    for (const key in tags) if (key[0] === '+') (clientTags ??= {})[key] = tags[key]!;
    this.record(
      {
        msgid: tags!.msgid!,
        time: Date.parse(tags!.time!),
        conversation,
        source: source!,
        account: sender.accountKey,
        command: command as StoredMessage['command'],
        target: params[0]!,
        text: params[1]!,
        tags: clientTags ?? NO_TAGS,
      },
      out,
      sender,
      now && this.appendSync === null,
    );
    if (this.appendSync === null) {
      if (!now) return;
      return this.commitAsync().then((stored) => {
        if (!stored) throw failError(command, 'TEMPORARILY_UNAVAILABLE', params[0]!, NOT_STORED);
      });
    }
    if ((now || this.failingSince !== 0) && !this.commit(out)) {
      throw failError(command, 'TEMPORARILY_UNAVAILABLE', params[0]!, NOT_STORED);
    }
  }

  /**
   * Write everything recorded so far; false if the store could not take it. Never throws.
   * A failed batch is not kept for a retry: its senders are told it was not sent, so storing
   * (and delivering) it later would be wrong. Its messages are withdrawn instead: their bytes
   * are dropped from every connection's output not yet written (this runs before the turn's
   * flush), and each sender, except that of `refusedByCaller`, gets FAIL.
   */
  commit(refusedByCaller: Outgoing | null = null): boolean {
    if (this.batch.length === 0) return true;
    if (!this.appendSync) {
      void this.commitAsync();
      return true;
    }
    const { batch, relays, senders, answered } = this.takeBatch();
    const started = performance.now();
    try {
      this.appendSync(batch);
    } catch (err) {
      this.metrics.historyCommit(batch.length, (performance.now() - started) / 1000);
      this.withdraw(relays, senders, answered, refusedByCaller);
      this.failed(batch.length, err);
      this.tell(batch, false);
      return false;
    }
    this.metrics.historyCommit(batch.length, (performance.now() - started) / 1000);
    this.stored();
    this.tell(batch, true);
    return true;
  }

  /**
   * The before-flush hook (transport/flush.ts, wired in app.ts): commit what this turn
   * recorded. Nothing to wait for with a synchronous store; with an asynchronous one, the
   * promise of the commit that holds this turn's messages, which the turn's output waits for.
   */
  commitBeforeFlush(): Promise<boolean> | void {
    if (this.appendSync) {
      this.commit();
      return;
    }
    // The writer's own setImmediate may have started this turn's append already: wait for it.
    if (this.batch.length > 0) return this.commitAsync();
    return this.next?.promise ?? this.appending ?? undefined;
  }

  /**
   * Async store: the promise that everything recorded so far is committed (true) or was given
   * up and withdrawn (false). Starts an append now, or, with one in flight, joins the next one.
   */
  private commitAsync(): Promise<boolean> {
    if (this.next) return this.next.promise;
    if (!this.appending) return this.appendNow();
    let start!: () => void;
    const promise = new Promise<void>((resolve) => (start = resolve)).then(() => this.appendNow());
    this.next = { promise, start };
    return promise;
  }

  private appendNow(): Promise<boolean> {
    const { batch, relays, senders, answered } = this.takeBatch();
    if (batch.length === 0) return Promise.resolve(true);
    const started = performance.now();
    const done = this.store.append(batch).then(
      () => {
        this.metrics.historyCommit(batch.length, (performance.now() - started) / 1000);
        this.stored();
        this.tell(batch, true);
        return true;
      },
      (err: unknown) => {
        this.metrics.historyCommit(batch.length, (performance.now() - started) / 1000);
        this.withdraw(relays, senders, answered, null);
        this.failed(batch.length, err);
        this.tell(batch, false);
        return false;
      },
    );
    this.appending = done;
    const ended = done.then(() => {
      this.appending = null;
      const next = this.next;
      this.next = null;
      next?.start();
    });
    this.pending = ended;
    return done;
  }

  private takeBatch() {
    const taken = { batch: this.batch, relays: this.relays, senders: this.senders, answered: this.answered };
    this.batch = [];
    this.relays = [];
    this.senders = [];
    this.answered = [];
    return taken;
  }

  /**
   * Take a failed batch back from everyone: no recipient gets it, each sender gets FAIL, except
   * where the caller answers (`answered`, `refusedByCaller`).
   */
  private withdraw(relays: (Outgoing | null)[], senders: (Session | null)[], answered: boolean[] | null, refusedByCaller: Outgoing | null): void {
    const withdrawn = new Set<Buffer>();
    for (let i = 0; i < relays.length; i++) {
      const out = relays[i];
      if (!out) continue;
      out.withdraw(withdrawn);
      const sender = senders[i]!;
      if (out === refusedByCaller || answered?.[i] || sender.state === 'closing') continue;
      const { command, params } = out.message;
      // Written past any labeled-response capture: this answers an earlier PRIVMSG, not the
      // command the sender may have running now.
      const fail = { source: this.output.serverName, command: 'FAIL', params: [command, 'TEMPORARILY_UNAVAILABLE', params[0]!, NOT_STORED] };
      sender.conn.write(encodeForView(fail, sender.view));
    }
    this.output.discard(withdrawn);
  }

  private failed(count: number, err: unknown): void {
    this.refused += count;
    if (this.failingSince !== 0) {
      this.logger.debug('history commit failed', { count, err });
      return;
    }
    this.failingSince = Date.now();
    this.logger.error('history store failing', { count, messages: 'refused until a commit succeeds', err });
  }

  private stored(): void {
    if (this.failingSince === 0) return;
    this.logger.info('history store recovered', { failingMs: Date.now() - this.failingSince, refused: this.refused });
    this.failingSince = 0;
    this.refused = 0;
  }

  /** Commit, and wait for async appends: a query after this sees everything recorded. */
  async flush(): Promise<void> {
    if (this.appendSync) {
      this.commit();
      return;
    }
    if (this.batch.length > 0) await this.commitAsync();
    await this.pending;
  }

  /** The store, once everything recorded is in it. For queries (CHATHISTORY, JOIN replay). */
  async read(): Promise<HistoryStore> {
    await this.flush();
    return this.store;
  }

  /** Retention now (tests, admin): returns how many messages were deleted. */
  pruneNow(now = Date.now()): Promise<number> {
    return this.retention.sweep(now);
  }

  /** Stop timers and commit what is left. Await it before closing the store. */
  stop(): Promise<void> {
    this.retention.stop();
    return this.flush();
  }
}
