/**
 * REDACT (IRCv3 draft/message-redaction, ircv3.net/specs/extensions/message-redaction): delete
 * a stored PRIVMSG or NOTICE from history and tell the clients that negotiated the capability.
 *
 * Who may: the message's sender of record (the account the store keeps with it, within
 * `history.redact_window_seconds`), the room's operators for a room message, and IRC operators
 * (both at any time). Only a stored message can be redacted, since only the store can say who
 * sent it: a nick is no proof (after its user leaves anyone may take it), and a message without
 * an account (its sender was not logged in) can be redacted by operators only. TAGMSG and
 * direct messages between users not both logged in are not stored, so they are unknown here.
 *
 * Order: the store deletes the message first and only then is the redaction announced
 * (core/redactions.ts), so a redaction the store could not take reaches no one
 * (FAIL REDACT TEMPORARILY_UNAVAILABLE), and what anyone was told is true of history.
 */
import { fitLastParam, foldCase, isRoomName, isValidNick, truncateUtf8 } from '../../protocol/index.js';
import { dmKey, type HistoryStore, type StoredMessage } from '../../store/store.js';
import { failError, IrcError } from '../errors.js';
import { announceDirectRedaction, announceRoomRedaction, type DirectRecipient, type Redaction } from '../redactions.js';
import type { Room } from '../room.js';
import type { Server } from '../server.js';
import type { Session } from '../session.js';
import type { CommandContext } from './context.js';

/** Parley's msgids (Server.newMsgid, the bus's stamps) are short and of these characters. */
const MSGID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** What a FAIL echoes of a target or msgid at most, so the reply fits its line whatever was sent. */
const ECHO_BYTES = 64;

/** Where the message should be: its conversation, and who to tell. */
type Place =
  | { kind: 'room'; conversation: string; copy: Room | undefined }
  | { kind: 'direct'; conversation: string; recipient: DirectRecipient };

// REDACT <target> <msgid> [<reason>]
export async function REDACT({ server, session, params }: CommandContext): Promise<void> {
  const target = params[0]!;
  const msgid = params[1]!;
  const reason = params[2] ? params[2] : null;
  const place = await locate(server, session, target);
  if (!MSGID_PATTERN.test(msgid)) throw unknownMsgid(server, target, msgid);

  const stored = await withStore(server, target, msgid, (store) => store.find(place.conversation, msgid));
  if (!stored) throw unknownMsgid(server, target, msgid);
  checkMayRedact(server, session, place, stored, target);

  const deleted = await withStore(server, target, msgid, (store) => store.redact(place.conversation, msgid));
  // Gone between the two calls: someone else redacted it first, and announced it.
  if (!deleted) throw unknownMsgid(server, target, msgid);
  server.logger.info('message redacted', { by: session.prefix, conversation: place.conversation, msgid, sender: stored.source });

  // Cut to fit the line with the redacter's prefix, as relayed text is (line-fit.ts).
  const redaction: Redaction = { target, msgid, reason: reason === null ? null : fitLastParam(session.prefix, 'REDACT', [target, msgid, reason])[2]! };
  if (place.kind === 'room') return announceRoomRedaction(server, session, place.conversation, redaction);
  return announceDirectRedaction(server, session, place.recipient, redaction);
}

/**
 * The conversation `target` names for `session`, as CHATHISTORY reads it: a room's, for its
 * members (and IRC operators, who need not be in it); a direct one, between the asker's account
 * and the target's (the nick's account if online and logged in, else the nick as an account
 * name). Anything else is INVALID_TARGET, a room one is not in included: no answer about its
 * messages, so msgids cannot be probed from outside.
 */
async function locate(server: Server, session: Session, target: string): Promise<Place> {
  const invalid = () => fail(server, 'INVALID_TARGET', [echoed(target)], `You cannot delete messages from ${echoed(target)}`);
  if (isRoomName(target)) {
    const copy = server.findRoom(target);
    if (copy?.members.has(session)) return { kind: 'room', conversation: copy.key, copy };
    if (session.oper === null) throw invalid();
    if (!copy && !(await server.cluster.state.room(target, { details: false }))) throw invalid();
    return { kind: 'room', conversation: foldCase(target), copy };
  }
  // Direct history is kept between two accounts only.
  if (session.accountKey === null || !isValidNick(target, 1000)) throw invalid();
  const found = await server.findUser(target);
  const local = found && 'conn' in found ? found : null;
  const onlineAccount = local ? local.accountKey : found && 'node' in found && found.account !== null ? foldCase(found.account) : null;
  const other = onlineAccount ?? foldCase(target);
  // Told only when logged in to the conversation's other account.
  let recipient: DirectRecipient = null;
  if (onlineAccount !== null && local) recipient = { local };
  else if (onlineAccount !== null && found && 'node' in found) recipient = { remote: found, account: onlineAccount };
  return { kind: 'direct', conversation: dmKey(session.accountKey, other), recipient };
}

/**
 * Operators of the network, and of the room for a room message, may redact anything at any
 * time; the sender of record (same account), within the window.
 */
function checkMayRedact(server: Server, session: Session, place: Place, message: StoredMessage, target: string): void {
  if (session.oper !== null) return;
  if (place.kind === 'room' && place.copy?.isOp(session)) return;
  const msgid = echoed(message.msgid);
  if (message.account === null || message.account !== session.accountKey) {
    throw fail(server, 'REDACT_FORBIDDEN', [echoed(target), msgid], 'You are not authorised to delete this message');
  }
  const window = server.config.history.redact_window_seconds;
  if (window > 0 && server.clock() - message.time > window * 1000) {
    throw fail(server, 'REDACT_WINDOW_EXPIRED', [echoed(target), msgid, String(window)], 'You can no longer delete this message');
  }
}

/** A store call, everything recorded committed first; a store failure is TEMPORARILY_UNAVAILABLE. */
async function withStore<T>(server: Server, target: string, msgid: string, call: (store: HistoryStore) => Promise<T>): Promise<T> {
  try {
    return await call(await server.history.read());
  } catch (err) {
    if (err instanceof IrcError) throw err;
    server.logger.error('redaction: store failed', { target: foldCase(target), msgid, err });
    throw fail(server, 'TEMPORARILY_UNAVAILABLE', [echoed(target), msgid], 'The message could not be deleted right now; try again shortly');
  }
}

function unknownMsgid(server: Server, target: string, msgid: string): IrcError {
  return fail(server, 'UNKNOWN_MSGID', [echoed(target), echoed(msgid)], 'This message does not exist or is too old');
}

/** FAIL REDACT <code> <context...> :<description>, the description cut to fit the line. */
function fail(server: Server, code: string, context: string[], description: string): IrcError {
  const params = fitLastParam(server.name, 'FAIL', ['REDACT', code, ...context, description]);
  return failError('REDACT', code, ...params.slice(2));
}

/** A client's parameter as a reply repeats it: at most ECHO_BYTES, cut at a character boundary. */
function echoed(param: string): string {
  return truncateUtf8(param, ECHO_BYTES);
}
