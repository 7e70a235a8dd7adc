import type { Config } from '../../config/schema.js';
import type { Logger } from '../../observability/logger.js';
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
 * taken back from output not yet written and each sender gets FAIL (see `commit`). With an async
 * store (no `appendSync`) writes are fire-and-forget and that guarantee is lost.
 */
export class History {
  readonly retention: Retention;
  private batch: StoredMessage[] = [];
  /** Per message of `batch`: the relayed message and its sender, or null (`record`). */
  private relays: (Outgoing | null)[] = [];
  private senders: (Session | null)[] = [];
  private scheduled = false;
  private readonly appendSync: AppendSync | null;
  /** Async fallback: appends chained in order; queries wait for it. */
  private pending: Promise<void> = Promise.resolve();
  /** When the current outage began (Date.now()), 0 while commits succeed. */
  private failingSince = 0;
  /** Messages given up since the outage began, for the "recovered" log line. */
  private refused = 0;
  private output: RefusalOutput = { serverName: 'server', discard: () => {} };
  private readonly onImmediate = () => {
    this.scheduled = false;
    this.commit();
  };

  constructor(
    readonly store: HistoryStore,
    config: Config['history'],
    private readonly logger: Logger,
  ) {
    const sync = (store as { appendSync?: unknown }).appendSync;
    this.appendSync = typeof sync === 'function' ? (sync as AppendSync).bind(store) : null;
    this.retention = new Retention(this, config, logger);
  }

  /** Where refusals go (app.ts: the server's name and transport/flush.ts discardPending). */
  setOutput(output: RefusalOutput): void {
    this.output = output;
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
  record(message: StoredMessage, relay: Outgoing | null = null, sender: Session | null = null): void {
    this.batch.push(message);
    this.relays.push(relay);
    this.senders.push(sender);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.onImmediate);
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
   */
  recordRelay(out: Outgoing, conversation: string, sender: Session, now = false): void {
    const { tags, source, command, params } = out.message;
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
    );
    if ((now || this.failingSince !== 0) && this.appendSync !== null && !this.commit(out)) {
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
    const batch = this.batch;
    const relays = this.relays;
    const senders = this.senders;
    this.batch = [];
    this.relays = [];
    this.senders = [];
    if (!this.appendSync) {
      this.pending = this.pending
        .then(() => this.store.append(batch))
        .then(() => this.stored(), (err: unknown) => this.failed(batch.length, err));
      return true;
    }
    try {
      this.appendSync(batch);
    } catch (err) {
      this.withdraw(relays, senders, refusedByCaller);
      this.failed(batch.length, err);
      return false;
    }
    this.stored();
    return true;
  }

  /** Take a failed batch back from everyone: no recipient gets it, each sender gets FAIL. */
  private withdraw(relays: (Outgoing | null)[], senders: (Session | null)[], refusedByCaller: Outgoing | null): void {
    const withdrawn = new Set<Buffer>();
    for (let i = 0; i < relays.length; i++) {
      const out = relays[i];
      if (!out) continue;
      out.withdraw(withdrawn);
      const sender = senders[i]!;
      if (out === refusedByCaller || sender.state === 'closing') continue;
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
    const sync = this.appendSync !== null;
    this.logger.error('history store failing', {
      count,
      messages: sync ? 'refused until a commit succeeds' : 'delivered but not stored',
      err,
    });
  }

  private stored(): void {
    if (this.failingSince === 0) return;
    this.logger.info('history store recovered', { failingMs: Date.now() - this.failingSince, refused: this.refused });
    this.failingSince = 0;
    this.refused = 0;
  }

  /** Commit, and wait for async appends: a query after this sees everything recorded. */
  flush(): Promise<void> {
    this.commit();
    return this.pending;
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
