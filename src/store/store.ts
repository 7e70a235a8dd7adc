/**
 * Durable storage: accounts, room registrations, message history, read markers, server bans,
 * account metadata (draft/metadata-2), uploaded files' metadata (soju.im/filehost).
 *
 * Every method is async so a networked implementation (PostgreSQL) fits the same shape; the
 * SQLite implementation resolves immediately. Names given to the store are already case-folded
 * by the caller (`foldCase`, casemapping ascii) where a parameter says `key`.
 *
 * Contract (test/contract/store.contract.ts checks it against every implementation):
 * - Writes are atomic per call; `appendMessages` writes the whole batch or nothing.
 * - Times are integers in milliseconds since the epoch (UTC).
 * - History queries return messages in ascending (time, msgid) order, whatever the direction
 *   of the query, and never more than `limit`.
 */
export interface Store {
  readonly accounts: AccountStore;
  readonly rooms: RoomRegistrationStore;
  readonly history: HistoryStore;
  readonly readMarkers: ReadMarkerStore;
  readonly bans: ServerBanStore;
  readonly metadata: MetadataStore;
  readonly uploads: UploadStore;
  /**
   * Full-text search over history: an ability, so optional. Both stores that ship have it; a
   * store without it (a test double, a future read-only or in-memory store) still implements
   * Store, and the SEARCH command is simply not offered. Callers check `store.search`.
   */
  readonly search?: SearchStore;
  /** Flush and release resources. The store is unusable afterwards. */
  close(): Promise<void>;
  /**
   * A networked store's view of its connection (PostgreSQL: the pool's last check); absent for
   * an embedded one. /healthz reports it. Never throws, never waits.
   */
  health?(): StoreHealth;
}

export interface StoreHealth {
  ok: boolean;
  /** What failed, when not ok (no secrets: the URL is shown without its password). */
  error?: string;
}

export interface ScramCredentials {
  /** Base64 salt. */
  salt: string;
  iterations: number;
  /** Base64 StoredKey and ServerKey (RFC 5802); the password itself is never kept. */
  storedKey: string;
  serverKey: string;
}

export interface AccountRecord {
  /** Display form, as registered. */
  name: string;
  /** Case-folded name: the primary key. */
  key: string;
  /** Encoded password hash (see auth/password.ts); includes algorithm and parameters. */
  passwordHash: string;
  scram: ScramCredentials;
  email: string | null;
  createdAt: number;
}

export interface AccountStore {
  /** Returns false (and changes nothing) if an account with this key exists. */
  create(account: AccountRecord): Promise<boolean>;
  get(key: string): Promise<AccountRecord | null>;
  /** Returns false if there is no such account. */
  setPassword(key: string, passwordHash: string, scram: ScramCredentials): Promise<boolean>;
  /** Deletes the account, its read markers, its metadata and its room foundership. Returns false if absent. */
  delete(key: string): Promise<boolean>;
  /** All accounts ordered by key. */
  list(): Promise<AccountRecord[]>;
}

export interface RoomRegistration {
  /** Display name (e.g. `#Lobby`). */
  name: string;
  /** Case-folded name: the primary key. */
  key: string;
  /** Account key of the founder. */
  founder: string;
  createdAt: number;
  topic: { text: string; setBy: string; setAt: number } | null;
  /** Flag modes such as `nt`, and the key and limit if set. */
  modes: { flags: string; key: string | null; limit: number | null };
  bans: { mask: string; setBy: string; setAt: number }[];
  /** Ban exceptions (+e) and invite exceptions (+I), entries as in `bans`. */
  exceptions: { mask: string; setBy: string; setAt: number }[];
  inviteExceptions: { mask: string; setBy: string; setAt: number }[];
  /** Account keys that get +o on join. */
  operators: string[];
}

export interface RoomRegistrationStore {
  /** Insert or replace the whole registration. */
  save(registration: RoomRegistration): Promise<void>;
  get(key: string): Promise<RoomRegistration | null>;
  delete(key: string): Promise<boolean>;
  list(): Promise<RoomRegistration[]>;
}

export interface StoredMessage {
  /** Unique across the store; duplicates are ignored on append (idempotent retries). */
  msgid: string;
  time: number;
  /**
   * The conversation this message belongs to: a folded room name (`#lobby`), or for direct
   * messages between accounts `dmKey(a, b)` so both sides find the same history.
   */
  conversation: string;
  /** `nick!user@host` of the sender. */
  source: string;
  /** Sender's account key, or null. */
  account: string | null;
  /**
   * PRIVMSG or NOTICE: a message. Anything else is a room event (IRCv3 draft/event-playback):
   * returned only to queries that ask for events (`HistoryQuery.events`).
   */
  command: MessageCommand | EventCommand;
  /** The target as sent (`#Lobby` or a nick); for an event, the room's name. */
  target: string;
  /** A message's text; '' for an event. */
  text: string;
  /** Client-only tags (`+...`) that travelled with the message. */
  tags: Record<string, string>;
  /**
   * An event's parameters as its line carries them (`['#room', 'reason']` for PART,
   * `['newnick']` for NICK, `['#room', '+o', 'bob']` for MODE). Present on events only.
   */
  params?: string[];
}

/** What CHATHISTORY returned before draft/event-playback, and still returns to other clients. */
export type MessageCommand = 'PRIVMSG' | 'NOTICE';

/** Room events kept in history for draft/event-playback. Stored values: never renamed. */
export type EventCommand = 'TAGMSG' | 'JOIN' | 'PART' | 'QUIT' | 'KICK' | 'MODE' | 'TOPIC' | 'NICK';

export const EVENT_COMMANDS: ReadonlySet<string> = new Set<EventCommand>(['TAGMSG', 'JOIN', 'PART', 'QUIT', 'KICK', 'MODE', 'TOPIC', 'NICK']);

export function isEvent(message: Pick<StoredMessage, 'command'>): boolean {
  return EVENT_COMMANDS.has(message.command);
}

/**
 * Options of the history range queries. Without `events` a query sees messages only: events are
 * left out in the query itself, so `limit` counts messages, and the answer is what it was before
 * events were stored. A msgid ref may name an event either way (its position is used).
 */
export interface HistoryQuery {
  /** Include events (draft/event-playback), in (time, msgid) order with the messages. */
  events?: boolean;
}

/** A point in a conversation: a message id, or a time. */
export type HistoryRef = { msgid: string } | { time: number };

export interface HistoryStore {
  /** Store a batch in one transaction. */
  append(messages: StoredMessage[]): Promise<void>;
  /** The newest `limit` messages, optionally only those strictly after `after`. */
  latest(conversation: string, limit: number, after?: HistoryRef, query?: HistoryQuery): Promise<StoredMessage[]>;
  /** Up to `limit` messages strictly before `ref`, the closest ones. */
  before(conversation: string, ref: HistoryRef, limit: number, query?: HistoryQuery): Promise<StoredMessage[]>;
  /** Up to `limit` messages strictly after `ref`, the closest ones. */
  after(conversation: string, ref: HistoryRef, limit: number, query?: HistoryQuery): Promise<StoredMessage[]>;
  /** Up to `limit` messages around `ref`: about half before, half after, the message itself if it exists. */
  around(conversation: string, ref: HistoryRef, limit: number, query?: HistoryQuery): Promise<StoredMessage[]>;
  /**
   * Messages strictly between two refs (either order). If `start` is later than `end`, the ones
   * closest to `start` are returned (newest first by selection, still ascending in the result).
   */
  between(conversation: string, start: HistoryRef, end: HistoryRef, limit: number, query?: HistoryQuery): Promise<StoredMessage[]>;
  /**
   * Conversations among `conversations` with messages strictly between two times, with the time
   * of the latest message in that window; ordered by that time, ascending; at most `limit`.
   * Messages only: events never make a conversation a target (the answer does not depend on
   * the asker's caps, and a JOIN or QUIT is not news to catch up on).
   */
  targets(conversations: string[], start: number, end: number, limit: number): Promise<{ conversation: string; latest: number }[]>;
  /** Direct-message conversation keys that involve this account. */
  directConversationsOf(account: string): Promise<string[]>;
  /**
   * Retention: delete messages of `conversation` older than `olderThan` (if given) and all but
   * the newest `keep` (if given). Events are rows like messages here: they count against `keep`
   * and age out the same way. Returns how many were deleted.
   */
  prune(conversation: string, options: { olderThan?: number; keep?: number }): Promise<number>;
  /** Every conversation key with stored messages (for retention sweeps). */
  conversations(): Promise<string[]>;
  /**
   * The message `msgid` of `conversation`, or null: unknown, an event other than TAGMSG, or a
   * message of another conversation (a msgid is looked up only where the caller says it belongs). REDACT decides
   * who sent a message from this row (its sender of record), never from what a client claims.
   */
  find(conversation: string, msgid: string): Promise<StoredMessage | null>;
  /**
   * Redaction (draft/message-redaction): delete the message `msgid` of `conversation`, so no
   * query (history, search, JOIN replay) returns it again; a direct conversation left empty is
   * forgotten by `directConversationsOf`, as after pruning. True if this call deleted it, false
   * if it was not there (unknown, another conversation's, an event other than TAGMSG, or
   * redacted already). Atomic.
   */
  redact(conversation: string, msgid: string): Promise<boolean>;
  /**
   * A renamed room (RENAME): every message and event of conversation `from` becomes one of `to`,
   * its target set to `target` (the new display name), so history under the new name is the
   * room's whole history. Moved in bounded batches with the store free between them, oldest
   * first; safe to run again (what arrived under `from` since is moved too). Resolves with how
   * many rows moved.
   */
  moveConversation(from: string, to: string, target: string): Promise<number>;
}

/** The conversation key of a direct message between two accounts, the same from both sides. */
export function dmKey(accountA: string, accountB: string): string {
  return accountA < accountB ? `@${accountA}:${accountB}` : `@${accountB}:${accountA}`;
}

/**
 * Full-text search over stored messages (the SEARCH command, issue 12). Permission is the
 * caller's: it passes the conversations the user may read (the rooms they are in, the `dmKey`s
 * of their account) and the store searches exactly those and nothing else.
 *
 * Contract (test/contract/search.contract.ts, run against every store that has it):
 * - A message matches when every term of the query matches its text: a term is a phrase, its
 *   words adjacent and in order. Words compare case-insensitively (Unicode case folding), with
 *   accents; text is split into words as `searchWords` (search-query.ts) splits it: letters,
 *   digits and marks; punctuation, symbols and emoji separate words and are not indexed.
 * - `query` comes from `parseSearchQuery`, which turns any user input into a query or an error
 *   value; the store never interprets user text as FTS5 or tsquery syntax. A query with no
 *   searchable word left matches nothing; one with more than MAX_SEARCH_WORDS words is a
 *   RangeError (a parsed query never has that many).
 * - Order: newest first, descending (time, msgid), msgid bytewise. Unlike the history queries,
 *   which return ascending order. (time, msgid) is unique store-wide, so paging with `cursor`
 *   gives every match exactly once: no gaps, no duplicates, while messages are added or pruned.
 * - Bounds are exclusive: `after` < time < `before`; `cursor` continues strictly after (older
 *   than) the position it names.
 * - Events (`isEvent`) are never found.
 * - A pruned or redacted message is no longer found. What was appended before the call is found (callers
 *   commit pending writes first, as for history: core/history `read()`).
 * - The promise rejects only for a store failure (connection, I/O), never for query content.
 */
export interface SearchStore {
  search(request: SearchRequest): Promise<SearchPage>;
}

export interface SearchRequest {
  /** Conversation keys (folded room names, `dmKey`s) to search in; none: an empty page. */
  conversations: readonly string[];
  query: SearchQuery;
  /** Only messages with time > after. */
  after?: number;
  /** Only messages with time < before. */
  before?: number;
  /** The previous page's `next`: only messages older than it in (time, msgid) order. */
  cursor?: SearchCursor;
  /**
   * At most this many messages (the caller applies its own maximum first; the store also caps
   * it at SEARCH_LIMIT_MAX). Zero or less: an empty page.
   */
  limit: number;
}

/** Words to look for, from `parseSearchQuery` (search-query.ts). */
export interface SearchQuery {
  /** All must match (AND). Each term is a phrase: one or more words, adjacent and in order. */
  terms: readonly (readonly string[])[];
  /** Only messages whose sender's nick (`source` up to `!`), ascii-folded, equals this. */
  from: string | null;
}

/** A position in search order: the (time, msgid) of the last message of a page. */
export interface SearchCursor {
  time: number;
  msgid: string;
}

export interface SearchPage {
  /** Newest first. */
  messages: StoredMessage[];
  /** Pass as `cursor` for the next page; null when this page is the last. */
  next: SearchCursor | null;
}

/** The most messages one search returns, whatever `limit` asks for. */
export const SEARCH_LIMIT_MAX = 1000;

export interface ReadMarkerStore {
  /**
   * Move the marker forward: the stored time becomes max(stored, time). Returns the stored
   * time after the call, so callers can tell every connection the true marker.
   */
  set(account: string, target: string, time: number): Promise<number>;
  get(account: string, target: string): Promise<number | null>;
  /** A renamed room: every account's marker of `from` becomes its marker of `to` (the later one where it had both). Atomic. */
  move(from: string, to: string): Promise<void>;
}

/** A server-wide ban set by an operator: KLINE (a `user@host` mask) or DLINE (an IP or CIDR). */
export interface ServerBan {
  kind: 'kline' | 'dline';
  /**
   * The key together with `kind`, as the caller normalised it: a KLINE mask case-folded
   * (`~bob@10.0.0.*`), a DLINE network in canonical form (`10.0.0.0/8`, `2001:db8::1`).
   */
  mask: string;
  reason: string;
  /** Who set it (`oper name` or `nick!user@host`). */
  setBy: string;
  setAt: number;
  /** When it stops applying (milliseconds since the epoch), or null for a permanent ban. */
  expiresAt: number | null;
}

export interface ServerBanStore {
  /** Insert, or replace the ban with the same kind and mask (a new reason or duration). */
  save(ban: ServerBan): Promise<void>;
  /** Returns false if there was no such ban. */
  delete(kind: ServerBan['kind'], mask: string): Promise<boolean>;
  /**
   * Every ban still in force at `now` (expiresAt null or > now), ordered by kind, then mask
   * (code point order). Expired bans are never returned, whether or not they were pruned.
   */
  list(now: number): Promise<ServerBan[]>;
  /** Delete the bans expired at `now` (expiresAt <= now); returns how many. */
  prune(now: number): Promise<number>;
}

/** One metadata key of an account and its value (IRCv3 draft/metadata-2). */
export interface MetadataEntry {
  /** Already valid per the spec's grammar (a-z 0-9 _ . / -); the caller checks it. */
  key: string;
  /** UTF-8 text; may be empty (the spec allows an empty value). */
  value: string;
}

/** What `MetadataStore.set` did. */
export type MetadataSetResult = 'set' | 'limit';

/**
 * Metadata kept per account (folded account key), so it survives restarts and every node reads
 * the same. Keys compare bytewise; entries come back ordered by key (code point order).
 */
export interface MetadataStore {
  /** The account's entries, ordered by key; [] for an account without any (or no account). */
  list(account: string): Promise<MetadataEntry[]>;
  /**
   * Entries of several accounts in one query (JOIN and SYNC of a room): only accounts with at
   * least one entry appear, each list ordered by key. The caller bounds `accounts`.
   */
  listMany(accounts: readonly string[]): Promise<Map<string, MetadataEntry[]>>;
  /**
   * Inserts or replaces one key. Atomic against the limit, also across nodes sharing the store:
   * when the key is new and the account already has `maxKeys` keys, nothing changes and the
   * result is 'limit'. Replacing a key that exists is always allowed.
   */
  set(account: string, key: string, value: string, maxKeys: number): Promise<MetadataSetResult>;
  /** Removes one key; false when it was not set. */
  delete(account: string, key: string): Promise<boolean>;
  /** Removes every key of the account; returns what was removed, ordered by key. */
  clear(account: string): Promise<MetadataEntry[]>;
}

/** One uploaded file (soju.im/filehost): the bytes are on disk under the data directory, this is what describes them. */
export interface UploadRecord {
  /** Random, 128 bits in base64url (22 characters); the file's name on disk and in its URL. */
  id: string;
  /** Folded key of the account that uploaded it. */
  account: string;
  /** The original file name, already cleaned by the caller (no path, no control characters); null if none was given. */
  filename: string | null;
  /** MIME essence, lower case (`image/png`), as the caller validated it. */
  contentType: string;
  /** Bytes: the real size once complete; while pending, the most it may grow to (its reservation). */
  size: number;
  createdAt: number;
}

/** What `UploadStore.reserve` did. */
export type UploadReserveResult = 'reserved' | 'quota';

/**
 * Metadata of uploaded files, and the per-account quota, kept with the accounts so every node
 * sharing the store counts the same bytes.
 *
 * An upload has two states. `reserve` inserts it pending, with `size` the most the body may be
 * (its Content-Length, or uploads.max_bytes for a chunked body), before a byte is read;
 * `complete` records the real size once the file is on disk. Pending rows count against the
 * quota, so uploads racing each other cannot together pass it: the check and the insert are one
 * atomic step per account (SQLite: one immediate transaction on the single connection;
 * PostgreSQL: a transaction-scoped advisory lock per account, as MetadataStore.set).
 *
 * Contract (test/contract/uploads.contract.ts):
 * - `get` returns complete uploads only; a pending one is not found (its file is not there yet).
 * - `usage` is the sum of `size` over the account's complete and pending rows.
 * - Ids are unique store-wide: `reserve` of an id that exists throws (the caller's ids are random).
 * - Deleting an account does not delete its uploads (their URLs were shared in messages;
 *   removing files is an operator's decision).
 */
export interface UploadStore {
  /**
   * Insert `upload` as pending unless the account's usage plus `upload.size` would exceed
   * `quotaBytes`; then nothing changes and the result is 'quota'. Atomic against concurrent
   * reservations of the same account, across nodes too.
   */
  reserve(upload: UploadRecord, quotaBytes: number): Promise<UploadReserveResult>;
  /** Mark a pending upload complete with its real size (at most the reserved one). False if there is no pending upload `id`. */
  complete(id: string, size: number): Promise<boolean>;
  /** The complete upload `id`, or null (unknown, or still pending). */
  get(id: string): Promise<UploadRecord | null>;
  /** Remove the upload `id`, pending or complete (a failed upload gives its reservation back). False if absent. */
  delete(id: string): Promise<boolean>;
  /** Bytes the account uses: complete uploads and pending reservations. */
  usage(account: string): Promise<number>;
  /**
   * Remove pending uploads created before `olderThan` (their request died with a process) and
   * return their ids, so the caller can remove the partial files. Complete uploads are kept.
   */
  prunePending(olderThan: number): Promise<string[]>;
}
