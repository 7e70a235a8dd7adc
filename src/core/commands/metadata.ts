/**
 * METADATA <target> <subcommand> [<params>...] (IRCv3 draft/metadata-2,
 * ircv3.net/specs/extensions/metadata). Choices the spec leaves, taken as Ergo takes them
 * unless said (docs/irc-support.md lists them):
 * - Metadata is kept per account in the store (survives restarts, the same on every node). A
 *   client not logged in may read, subscribe and sync, but its SET and CLEAR are refused with
 *   KEY_NO_PERMISSION (Ergo keeps such metadata on the connection; Parley does not, since a
 *   value other nodes cannot read would break "the same on every node").
 * - Before registration (`before-connect`) only `*` may be the target, as in Ergo.
 * - IRC operators may SET and CLEAR another logged-in user's metadata (the spec's "privileged
 *   users"); nobody else (KEY_NO_PERMISSION).
 * - Rooms keep no metadata: GET, LIST, SET and CLEAR on a room are INVALID_TARGET; SYNC of a
 *   room one is in sends its members' metadata.
 * - SET on one's own metadata and CLEAR are rate-limited per connection (RATE_LIMITED with
 *   RetryAfter), as Ergo limits them.
 * - CLEAR answers RPL_KEYNOTSET per removed key (Ergo; the spec's text says RPL_KEYVALUE but
 *   has no value to put in it).
 */
import { foldCase, isRoomName, type IrcMessage } from '../../protocol/index.js';
import * as N from '../../protocol/numerics.js';
import { TokenBucket } from '../../limits/token-bucket.js';
import type { MetadataEntry } from '../../store/store.js';
import { failError, numericError } from '../errors.js';
import { isValidMetadataKey, metadataValueProblem } from '../metadata/keys.js';
import { metadataLine, roomMetadataLines, sendMetadataBatch, VISIBLE } from '../metadata/notify.js';
import type { Server } from '../server.js';
import type { Session } from '../session.js';
import type { CommandContext } from './context.js';

/** Keys per 770/771/772 line: well within 512 bytes at 64 bytes a key. */
const KEYS_PER_LINE = 6;

/** Whose metadata a command is about. */
interface Subject {
  /** As replies show it: the nick, or `*` for oneself before registration. */
  nick: string;
  uid: string;
  account: string | null;
  self: boolean;
}

export function METADATA(ctx: CommandContext): void | Promise<void> {
  const { session, params } = ctx;
  const sub = params[1]!.toUpperCase();
  const needsKey = sub === 'GET' || sub === 'SET' || sub === 'SUB' || sub === 'UNSUB';
  if (needsKey && params.length < 3) throw numericError(N.ERR_NEEDMOREPARAMS, 'METADATA', 'Not enough parameters');
  switch (sub) {
    case 'SUB':
      return subscribe(ctx);
    case 'UNSUB':
      return unsubscribe(ctx);
    case 'SUBS':
      return listSubscriptions(ctx);
    case 'GET':
    case 'LIST':
    case 'SET':
    case 'CLEAR':
    case 'SYNC':
      return withSubject(ctx, sub);
    default:
      session.standardReply('FAIL', ['METADATA', 'SUBCOMMAND_INVALID', params[1]!, 'invalid subcommand']);
  }
}

async function withSubject(ctx: CommandContext, sub: string): Promise<void> {
  const { server, session, params } = ctx;
  const target = params[0]!;
  if (isRoomName(target)) {
    if (sub === 'SYNC') return syncRoom(server, session, target);
    throw failError('METADATA', 'INVALID_TARGET', target, 'Parley keeps no room metadata');
  }
  const subject = await subjectOf(server, session, target, params[2] ?? '*');
  switch (sub) {
    case 'GET':
      return get(server, session, subject, params.slice(2));
    case 'LIST':
      return list(server, session, subject);
    case 'SET':
      return set(server, session, subject, params[2]!, params.length > 3 ? params[3]! : null);
    case 'CLEAR':
      return clear(server, session, subject);
    default:
      return syncUser(server, session, subject);
  }
}

/** `*` or one's own nick is oneself; another nick is looked up on every node. */
async function subjectOf(server: Server, session: Session, target: string, key: string): Promise<Subject> {
  if (target === '*' || (session.registered && foldCase(target) === session.nickKey)) {
    return { nick: session.registered ? session.nick : '*', uid: session.uid, account: session.accountKey, self: true };
  }
  if (!session.registered) {
    throw failError('METADATA', 'KEY_NO_PERMISSION', target, key, 'Before registration only * (yourself) may be the target');
  }
  const found = await server.findUser(target);
  if (!found) throw failError('METADATA', 'INVALID_TARGET', target, 'No such nick');
  if ('conn' in found) return { nick: found.nick, uid: found.uid, account: found.accountKey, self: false };
  return { nick: found.nick, uid: found.uid, account: found.account ? foldCase(found.account) : null, self: false };
}

async function readEntries(server: Server, subject: Subject): Promise<MetadataEntry[]> {
  if (!subject.account) return [];
  try {
    return await server.store.metadata.list(subject.account);
  } catch (err) {
    server.logger.warn('metadata: store read failed', { account: subject.account, err });
    throw failError('METADATA', 'TEMPORARILY_UNAVAILABLE', subject.nick, 'Metadata cannot be read now; try again');
  }
}

// METADATA <target> GET <key> [<key>...]
async function get(server: Server, session: Session, subject: Subject, keys: string[]): Promise<void> {
  const entries = new Map((await readEntries(server, subject)).map((e) => [e.key, e.value]));
  const lines: IrcMessage[] = keys.map((key) => {
    if (!isValidMetadataKey(key)) return fail(server, 'KEY_INVALID', key, 'invalid key');
    const value = entries.get(key);
    return value === undefined ? reply(server, session, N.RPL_KEYNOTSET, subject.nick, key, 'key not set') : reply(server, session, N.RPL_KEYVALUE, subject.nick, key, VISIBLE, value);
  });
  sendMetadataBatch(server, session, subject.nick, lines);
}

// METADATA <target> LIST
async function list(server: Server, session: Session, subject: Subject): Promise<void> {
  const entries = await readEntries(server, subject);
  sendMetadataBatch(server, session, subject.nick, entries.map((e) => reply(server, session, N.RPL_KEYVALUE, subject.nick, e.key, VISIBLE, e.value)));
}

/** Who may change `subject`'s metadata: the user itself, or an IRC operator; only if logged in. */
function checkCanChange(session: Session, subject: Subject, key: string): string {
  if (!subject.self && !session.oper) throw failError('METADATA', 'KEY_NO_PERMISSION', subject.nick, key, 'permission denied');
  if (!subject.account) {
    const why = subject.self ? 'Log in to an account to keep metadata' : `${subject.nick} is not logged in to an account`;
    throw failError('METADATA', 'KEY_NO_PERMISSION', subject.nick, key, why);
  }
  return subject.account;
}

/** One token of the connection's SET/CLEAR rate for its own metadata; RATE_LIMITED when none is left. */
function takeToken(server: Server, session: Session, subject: Subject, key: string): TokenBucket | null {
  if (!subject.self) return null;
  const { metadata_set_burst: burst, metadata_sets_per_minute: perMinute } = server.config.limits;
  const bucket = (session.metadataBucket ??= new TokenBucket(burst, perMinute / 60, server.clock));
  if (!bucket.take()) {
    const retry = String(Math.max(1, Math.ceil(bucket.msUntilNext() / 1000)));
    throw failError('METADATA', 'RATE_LIMITED', subject.nick, key, retry, 'too many changes');
  }
  return bucket;
}

function storeFailed(server: Server, subject: Subject, key: string, err: unknown): never {
  server.logger.warn('metadata: store write failed', { account: subject.account, key, err });
  throw failError('METADATA', 'TEMPORARILY_UNAVAILABLE', subject.nick, key, 'Metadata cannot be changed now; nothing was changed');
}

// METADATA <target> SET <key> [:<value>]   (no value: the key is removed)
async function set(server: Server, session: Session, subject: Subject, key: string, value: string | null): Promise<void> {
  if (!isValidMetadataKey(key)) throw failError('METADATA', 'KEY_INVALID', key, 'invalid key');
  const account = checkCanChange(session, subject, key);
  const { metadata_max_value_bytes: maxBytes, metadata_max_keys: maxKeys } = server.config.limits;
  const problem = value === null ? null : metadataValueProblem(value, maxBytes);
  if (problem) throw failError('METADATA', 'VALUE_INVALID', problem);
  const bucket = takeToken(server, session, subject, key);
  if (value === null) {
    const removed = await server.store.metadata.delete(account, key).catch((err: unknown) => storeFailed(server, subject, key, err));
    if (!removed) {
      bucket?.refund();
      throw failError('METADATA', 'KEY_NOT_SET', subject.nick, key, 'key not set');
    }
    session.numeric(N.RPL_KEYNOTSET, subject.nick, key, 'key not set');
  } else {
    const result = await server.store.metadata.set(account, key, value, maxKeys).catch((err: unknown) => storeFailed(server, subject, key, err));
    if (result === 'limit') {
      bucket?.refund();
      throw failError('METADATA', 'LIMIT_REACHED', subject.nick, `metadata limit reached (${maxKeys} keys)`);
    }
    session.numeric(N.RPL_KEYVALUE, subject.nick, key, VISIBLE, value);
  }
  announce(server, session, subject, account, [{ key, value }]);
}

// METADATA <target> CLEAR
async function clear(server: Server, session: Session, subject: Subject): Promise<void> {
  const account = checkCanChange(session, subject, '*');
  takeToken(server, session, subject, '*');
  const removed = await server.store.metadata.clear(account).catch((err: unknown) => storeFailed(server, subject, '*', err));
  sendMetadataBatch(server, session, subject.nick, removed.map((e) => reply(server, session, N.RPL_KEYNOTSET, subject.nick, e.key, 'key not set')));
  if (removed.length > 0) announce(server, session, subject, account, removed.map((e) => ({ key: e.key, value: null })));
}

/** What the store now holds, to every node's subscribers (core/metadata/notify.ts). */
function announce(server: Server, session: Session, subject: Subject, account: string, changes: { key: string; value: string | null }[]): void {
  // Before registration there is no nick yet: the burst tells the client, and no one else can see it.
  if (!session.registered && subject.self) return;
  server.networkLog.publish({ v: 1, origin: server.cluster.nodes.id, kind: 'metadata', uid: subject.uid, nick: subject.nick, account, by: session.uid, changes });
}

// METADATA <target> SYNC: the target's subscribed metadata as METADATA lines.
async function syncUser(server: Server, session: Session, subject: Subject): Promise<void> {
  const subs = session.metadataSubs;
  const entries = subs?.size ? (await readEntries(server, subject)).filter((e) => subs.has(e.key)) : [];
  sendMetadataBatch(server, session, subject.nick, entries.map((e) => metadataLine(server, subject.nick, e)));
}

// METADATA <room> SYNC: the subscribed metadata of every member, for a member of the room.
async function syncRoom(server: Server, session: Session, name: string): Promise<void> {
  const room = server.findRoom(name);
  if (!room || !room.members.has(session)) {
    if (!room && !(await server.cluster.state.room(name).catch(() => null))) throw failError('METADATA', 'INVALID_TARGET', name, 'No such room');
    throw failError('METADATA', 'KEY_NO_PERMISSION', name, '*', 'You are not in that room');
  }
  let lines: IrcMessage[];
  try {
    lines = await roomMetadataLines(server, session, room);
  } catch (err) {
    server.logger.warn('metadata: store read failed for SYNC', { room: room.name, err });
    throw failError('METADATA', 'TEMPORARILY_UNAVAILABLE', room.name, 'Metadata cannot be read now; try again');
  }
  sendMetadataBatch(server, session, room.name, lines);
}

// METADATA * SUB <key> [<key>...]: in order; past max-subs, the first key refused ends it.
function subscribe({ server, session, params }: CommandContext): void {
  const max = server.config.limits.metadata_max_subs;
  const ok: string[] = [];
  const failures: string[][] = [];
  for (const key of params.slice(2)) {
    if (!isValidMetadataKey(key)) {
      failures.push(['KEY_INVALID', key, 'invalid key']);
      continue;
    }
    const subs = (session.metadataSubs ??= new Set());
    if (!subs.has(key)) {
      if (subs.size >= max) {
        failures.push(['TOO_MANY_SUBS', key, 'too many subscriptions']);
        break;
      }
      subs.add(key);
    }
    if (!ok.includes(key)) ok.push(key);
  }
  if (session.metadataSubs?.size === 0) session.metadataSubs = null;
  sendKeys(session, N.RPL_METADATASUBOK, ok);
  for (const failure of failures) session.standardReply('FAIL', ['METADATA', ...failure]);
}

// METADATA * UNSUB <key> [<key>...]
function unsubscribe({ session, params }: CommandContext): void {
  const ok: string[] = [];
  for (const key of params.slice(2)) {
    if (!isValidMetadataKey(key)) {
      session.standardReply('FAIL', ['METADATA', 'KEY_INVALID', key, 'invalid key']);
      continue;
    }
    session.metadataSubs?.delete(key);
    if (!ok.includes(key)) ok.push(key);
  }
  if (session.metadataSubs?.size === 0) session.metadataSubs = null;
  sendKeys(session, N.RPL_METADATAUNSUBOK, ok);
}

// METADATA * SUBS: a metadata-subs batch of 772 lines.
function listSubscriptions({ server, session }: CommandContext): void {
  const keys = [...(session.metadataSubs ?? [])].sort();
  const lines: IrcMessage[] = [];
  for (let i = 0; i < keys.length; i += KEYS_PER_LINE) lines.push(reply(server, session, N.RPL_METADATASUBS, ...keys.slice(i, i + KEYS_PER_LINE)));
  if (!session.has('batch')) {
    for (const message of lines) session.sendMessage(message);
    return;
  }
  const id = server.nextBatchId();
  session.sendMessage({ source: server.name, command: 'BATCH', params: [`+${id}`, 'metadata-subs'] });
  for (const message of lines) session.sendMessage({ ...message, tags: { batch: id } });
  session.sendMessage({ source: server.name, command: 'BATCH', params: [`-${id}`] });
}

function sendKeys(session: Session, code: string, keys: string[]): void {
  for (let i = 0; i < keys.length; i += KEYS_PER_LINE) session.numeric(code, ...keys.slice(i, i + KEYS_PER_LINE));
}

/** A numeric to this client as a message (for batches); keys and values fit (keys.ts bounds). */
function reply(server: Server, session: Session, code: string, ...params: string[]): IrcMessage {
  return { source: server.name, command: code, params: [session.nick, ...params] };
}

function fail(server: Server, code: string, ...params: string[]): IrcMessage {
  return { source: server.name, command: 'FAIL', params: ['METADATA', code, ...params] };
}
