import type { Config } from '../../config/schema.js';
import type { Logger } from '../../observability/logger.js';
import type { HistoryStore, StoredMessage } from '../../store/store.js';
import type { Outgoing } from '../outgoing.js';
import { Retention } from './retention.js';

/** A store that can commit synchronously (SQLite). Detected at run time; see History.commit. */
type AppendSync = (messages: StoredMessage[]) => void;

/** Kept for retry after a failed commit, at most; beyond it the oldest are dropped (and logged). */
const MAX_RETRY_BACKLOG = 50_000;
const RETRY_MS = 1000;
const NO_TAGS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/**
 * The history writer. The hot path only pushes to an in-memory batch (`record`); the batch is
 * committed once per event-loop turn, before that turn's socket output is written
 * (transport/flush.ts `addBeforeFlush`, wired in app.ts), and by its own setImmediate for a turn
 * without output. With a synchronous store the commit has reached the database file before any
 * client can see the message, so a message someone received survives SIGKILL. With an async
 * store (no `appendSync`) writes are fire-and-forget and that guarantee is lost.
 */
export class History {
  readonly retention: Retention;
  private batch: StoredMessage[] = [];
  private scheduled = false;
  private readonly appendSync: AppendSync | null;
  /** Async fallback: appends chained in order; queries wait for it. */
  private pending: Promise<void> = Promise.resolve();
  private retryTimer: NodeJS.Timeout | null = null;
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

  /** Hot path: queue one message for the next commit. No I/O, no promise. */
  record(message: StoredMessage): void {
    this.batch.push(message);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.onImmediate);
    }
  }

  /** Record a relayed PRIVMSG/NOTICE as built by messaging.ts (its time, msgid and + tags). */
  recordRelay(out: Outgoing, conversation: string, account: string | null): void {
    const { tags, source, command, params } = out.message;
    let clientTags: Record<string, string> | undefined;
    for (const key in tags) if (key[0] === '+') (clientTags ??= {})[key] = tags[key]!;
    this.record({
      msgid: tags!.msgid!,
      time: Date.parse(tags!.time!),
      conversation,
      source: source!,
      account,
      command: command as StoredMessage['command'],
      target: params[0]!,
      text: params[1]!,
      tags: clientTags ?? NO_TAGS,
    });
  }

  /** Write everything recorded so far. Never throws: a failed batch is kept and retried. */
  commit(): void {
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    if (!this.appendSync) {
      this.pending = this.pending
        .then(() => this.store.append(batch))
        .catch((err: unknown) => this.logger.error('history append failed', { count: batch.length, err }));
      return;
    }
    try {
      this.appendSync(batch);
    } catch (err) {
      // Appends are idempotent by msgid, so retrying a batch that partly landed is safe.
      this.batch = batch.concat(this.batch);
      const excess = this.batch.length - MAX_RETRY_BACKLOG;
      if (excess > 0) this.batch.splice(0, excess);
      this.logger.error('history commit failed; will retry', { count: batch.length, dropped: Math.max(0, excess), err });
      if (!this.retryTimer) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.commit();
        }, RETRY_MS);
        this.retryTimer.unref();
      }
    }
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
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    return this.flush();
  }
}
