import { fitLastParam, foldCase, isRoomName, uniqueNames, type Tags } from '../../protocol/index.js';
import { SERVICES } from '../services/index.js';
import * as N from '../../protocol/numerics.js';
import { failError, IrcError, numericError } from '../errors.js';
import { isAssembled } from '../multiline-input.js';
import { Outgoing } from '../outgoing.js';
import { MEMBER_OP, MEMBER_VOICE, type Room } from '../room.js';
import type { Session } from '../session.js';
import { dmKey } from '../../store/store.js';
import { sendDirect } from '../direct.js';
import { roomFromSnapshot } from '../room-fields.js';
import type { CommandContext } from './context.js';

type RelayCommand = 'PRIVMSG' | 'NOTICE' | 'TAGMSG';

// PRIVMSG <target>{,<target>} <text>   (a message to NickServ or ChanServ goes to the service)
export function PRIVMSG(ctx: CommandContext): void | Promise<void> {
  const service = ctx.params.length >= 2 ? SERVICES.get(foldCase(ctx.params[0]!)) : undefined;
  if (service && isAssembled(ctx.message)) throw failError('BATCH', 'MULTILINE_INVALID_TARGET', ctx.params[0]!, ctx.params[0]!, 'Services take one line at a time');
  return service ? service(ctx.server, ctx.session, ctx.params[1]!) : relay(ctx, 'PRIVMSG');
}
// NOTICE <target>{,<target>} <text>
// No error goes back for a NOTICE, not even for a missing target (modern.ircdocs.horse NOTICE):
// numerics are dropped. A FAIL (the store could not take the message) still goes.
export function NOTICE(ctx: CommandContext): void | Promise<void> {
  try {
    return relay(ctx, 'NOTICE');
  } catch (err) {
    if (!isNumeric(err)) throw err;
  }
}
// TAGMSG <target>{,<target>}   (IRCv3 message-tags: only client-only tags travel)
export const TAGMSG = (ctx: CommandContext) => relay(ctx, 'TAGMSG');

/**
 * The hot path. Checks run on local memory, the message is built once, and each recipient gets
 * the cached bytes for its capability view; nothing here awaits.
 */
function relay({ server, session, message, params }: CommandContext, command: RelayCommand): void | Promise<void> {
  server.metrics.messageIn(command);
  if (params.length < 1 || params[0] === '') throw numericError(N.ERR_NORECIPIENT, `No recipient given (${command})`);
  const text = params[1];
  if (command !== 'TAGMSG' && (text === undefined || text === '')) throw numericError(N.ERR_NOTEXTTOSEND, 'No text to send');
  // A repeated target (`#c,#C`) would deliver and store the message twice.
  const targets = uniqueNames(params[0]!.split(','));
  if (targets.length > server.config.limits.targets_per_message) {
    throw numericError(N.ERR_TOOMANYTARGETS, params[0]!, 'Too many targets');
  }
  session.lastSpoke = Date.now();
  // A bot's messages carry `bot` (IRCv3 bot-mode), in history too; a client cannot send it.
  const clientTags = session.bot ? { ...clientOnlyTags(message.tags), bot: '' } : clientOnlyTags(message.tags);
  // A labeled reply is built when the command ends, so a stored message is committed at once.
  const labeled = message.tags?.label !== undefined && session.has('labeled-response');
  // A multiline batch's message (multiline-input.ts) is cut into lines per recipient instead.
  const whole = isAssembled(message);
  // With an asynchronous store a labeled message's outcome comes later: the reply waits for it.
  let outcomes: Promise<void>[] | undefined;
  const stored = (outcome: Promise<void> | void) => {
    if (outcome) (outcomes ??= []).push(outcome.catch((err: unknown) => server.replyError(session, command, err)));
  };
  const report = command === 'NOTICE' ? (err: unknown) => void (isNumeric(err) || server.replyError(session, command, err)) : undefined;
  const reportLater = report ?? ((err: unknown) => server.replyError(session, command, err));
  // Once a target needed the shared state (a user on another node), the targets after it wait
  // for it, so replies and echoes keep the order of the targets.
  let waiting: Promise<void> | null = null;
  const relayTo = (target: string): Promise<void> | void => {
    const statusPrefix = target[0] === '@' || target[0] === '+' ? target[0] : '';
    const name = target.slice(statusPrefix.length);
    if (isRoomName(name)) {
      // Through the room's log: every node delivers it in one order, once stored, the echo
      // included (core/room-messages.ts). Cut to fit the line with the sender's prefix.
      const cut = command === 'TAGMSG' ? '' : whole ? text! : fitLastParam(session.prefix, command, [target, text!])[1]!;
      const room = server.findRoom(name);
      if (room) {
        checkMaySend(session, room, text);
        return server.roomMessages.publish(session, room, command, target, cut, clientTags, labeled);
      }
      // No member here: a -n room elsewhere on the network may still take it (a read-only view).
      return server.cluster.state.room(name, { details: false }).then((snapshot) => {
        if (!snapshot) throw numericError(N.ERR_NOSUCHCHANNEL, name, 'No such channel');
        const view = roomFromSnapshot(snapshot, () => undefined, () => {});
        checkMaySend(session, view, text);
        return server.roomMessages.publish(session, view, command, target, cut, clientTags, labeled);
      });
    }
    const tags: Tags = { ...clientTags, time: new Date().toISOString(), msgid: server.newMsgid() };
    if (session.account) tags.account = session.account;
    const out = new Outgoing({
      tags,
      source: session.prefix,
      command,
      // Cut to fit the line with the sender's prefix (line-fit.ts); echo and history get the same.
      params: command === 'TAGMSG' ? [target] : whole ? [target, text!] : fitLastParam(session.prefix, command, [target, text!]),
    });
    if (statusPrefix) throw numericError(N.ERR_NOSUCHNICK, target, 'No such nick/channel');
    const recipient = server.findUser(target);
    if (recipient instanceof Promise) {
      // Not on this node: the shared state says where, and the message goes to that node's
      // inbox (direct.ts). Later lines of this client wait for it (input-gate.ts).
      return recipient.then((record) => {
        if (!record) throw numericError(N.ERR_NOSUCHNICK, target, 'No such nick/channel');
        return sendDirect(server, session, out, record);
      });
    }
    // Direct history exists between two accounts only; it is keyed so both sides find it.
    if (command !== 'TAGMSG' && session.accountKey !== null && recipient.accountKey !== null) {
      stored(server.history.recordRelay(out, dmKey(session.accountKey, recipient.accountKey), session, labeled));
    }
    recipient.deliver(out);
    server.metrics.relayed(1);
    if (command === 'PRIVMSG' && recipient.away !== null) session.numeric(N.RPL_AWAY, recipient.nick, recipient.away);
    session.echo(out);
  };
  server.forEachTarget(session, command, targets, (target) => {
    if (waiting) {
      waiting = waiting.then(() => relayTo(target)).catch(reportLater);
      return;
    }
    const pending = relayTo(target);
    if (pending) waiting = pending.catch(reportLater);
  }, report);
  if (waiting) return (waiting as Promise<void>).then(() => Promise.all(outcomes ?? [])).then(() => {});
  if (outcomes) return Promise.all(outcomes).then(() => {});
}

function isNumeric(err: unknown): boolean {
  return err instanceof IrcError && err.kind === 'numeric';
}

function checkMaySend(session: Session, room: Room, text: string | undefined): void {
  const flags = room.members.get(session);
  const voiced = flags !== undefined && (flags & (MEMBER_OP | MEMBER_VOICE)) !== 0;
  const refuse = (why: string) => numericError(N.ERR_CANNOTSENDTOCHAN, room.name, `Cannot send to channel (${why})`);
  if (flags === undefined && room.flags.has('n')) throw refuse('no external messages');
  if (!voiced && room.flags.has('m')) throw refuse('+m');
  if (!voiced && room.isSilenced(session)) throw refuse('banned');
  // +C: no CTCP (VERSION, PING... would make every member's client answer), /me stays.
  if (text !== undefined && room.flags.has('C') && isCtcp(text)) throw refuse('no CTCP, +C');
}

const isCtcp = (text: string) => text.charCodeAt(0) === 1 && !/^\x01ACTION(?: |\x01|$)/.test(text);

/** Only client-only tags (`+name`) are relayed; server tags from a client are ignored. */
function clientOnlyTags(tags: Tags | undefined): Tags | undefined {
  if (!tags) return undefined;
  let out: Tags | undefined;
  for (const key in tags) if (key.startsWith('+')) (out ??= {})[key] = tags[key]!;
  return out;
}

