import { isRoomName, MAX_MASK_LENGTH, namesEqual } from '../../protocol/index.js';
import * as N from '../../protocol/numerics.js';
import { failError, numericError } from '../errors.js';
import { MEMBER_OP, MEMBER_VOICE, ROOM_FLAG_MODES, type Room } from '../room.js';
import type { Server } from '../server.js';
import type { Session } from '../session.js';
import type { CommandContext } from './context.js';
import { changeRoom, onRoom, requireOp } from './rooms.js';
import { cloneRoom, fieldChanges, roomFromSnapshot } from '../room-fields.js';
import { listMask, type MaskListMode } from '../room-masks.js';
import { changeFlags, type MemberChange } from '../../cluster/state.js';

/** Mode changes with a parameter honoured per command, as ISUPPORT MODES=4 says. */
export const MAX_PARAM_MODES = 4;

// MODE <target> [<modestring> [<mode arguments>...]]
export function MODE(ctx: CommandContext): void | Promise<void> {
  if (isRoomName(ctx.params[0]!)) return roomMode(ctx);
  userMode(ctx);
}

function userMode({ server, session, params }: CommandContext): void {
  if (!namesEqual(params[0]!, session.nick)) throw numericError(N.ERR_USERSDONTMATCH, "Can't change mode for other users");
  const modes = params[1];
  if (modes === undefined) {
    session.numeric(N.RPL_UMODEIS, userModes(session));
    return;
  }
  let adding = true;
  let applied = '';
  let unknown = false;
  for (const ch of modes) {
    if (ch === '+' || ch === '-') adding = ch === '+';
    else if (ch === 'i') {
      if (session.invisible !== adding) {
        applied += (adding ? '+' : '-') + 'i';
        server.counts.invisible += adding ? 1 : -1;
      }
      session.invisible = adding;
    } else if (ch === 'B') {
      if (session.bot !== adding) applied += (adding ? '+' : '-') + 'B';
      session.bot = adding;
    } else if (ch === 'w') {
      if (session.wallops !== adding) applied += (adding ? '+' : '-') + 'w';
      session.wallops = adding;
    } else if (ch === 'o') {
      // +o comes from OPER only; a MODE +o is ignored (RFC 2812 3.1.5). -o gives it up.
      if (!adding && session.oper) {
        session.oper = null;
        server.counts.opers--;
        applied += '-o';
      }
    } else unknown = true;
  }
  if (unknown) session.numeric(N.ERR_UMODEUNKNOWNFLAG, 'Unknown MODE flag');
  if (/[ioB]/.test(applied)) server.users.updateModes(session);
  // Every connection of the user (multiclient.ts) shows its modes.
  if (applied) session.eachConnection(() => session.sendMessage({ source: session.prefix, command: 'MODE', params: [session.nick, applied] }));
}

/** The user's modes as RPL_UMODEIS shows them: `+` and the letters set. */
export function userModes(session: Session): string {
  return `+${session.bot ? 'B' : ''}${session.invisible ? 'i' : ''}${session.oper ? 'o' : ''}${session.wallops ? 'w' : ''}`;
}

export interface ModeChange {
  adding: boolean;
  mode: string;
  param?: string;
}

function roomMode(ctx: CommandContext): void | Promise<void> {
  return onRoom(ctx.server, ctx.params[0]!, (room) => modesOf(ctx, room));
}

function modesOf({ server, session, params }: CommandContext, room: Room): void | Promise<void> {
  const modestring = params[1];
  if (modestring === undefined) {
    session.numeric(N.RPL_CHANNELMODEIS, room.name, ...room.modeString(room.members.has(session)));
    session.numeric(N.RPL_CREATIONTIME, room.name, String(room.createdAt));
    return;
  }
  const args = params.slice(2);
  // "MODE #room b" / "+b" without a mask lists the bans, and needs no privilege; the
  // exception lists are for operators (they tell who is let past a ban).
  const listing = /^[+]?([beI])$/.exec(modestring);
  if (listing && args.length === 0) {
    const mode = listing[1] as MaskListMode;
    if (mode !== 'b') requireOp(room, session);
    sendMaskList(session, room, mode);
    return;
  }
  requireOp(room, session);
  return changeModes(server, session, room, modestring, args);
}

/** Compare-and-set attempts for one MODE before it gives up (each lost one: the room changed meanwhile). */
const MODE_ATTEMPTS = 5;

/**
 * The changes are tried on a scratch copy of the room as this node knows it, then made in the
 * shared state as one compare-and-set on that version (room-fields.ts: the fields that differ).
 * Another change in between (two ops setting +l on two nodes) makes it `stale`: the changes are
 * decided again on the state it returns, so every node sees both MODE lines in one order and
 * ends in the same state. +o/+v go in the same step, as bits added and removed, so two ops
 * changing one member at once both take effect.
 */
async function changeModes(server: Server, session: Session, room: Room, modestring: string, args: string[]): Promise<void> {
  let base = room;
  for (let attempt = 0; attempt < MODE_ATTEMPTS; attempt++) {
    const scratch = cloneRoom(base);
    const replies: (() => void)[] = [];
    const { applied, members } = tryModes(server, session, scratch, modestring, [...args], replies);
    if (applied.length === 0) {
      for (const reply of replies) reply();
      return;
    }
    const { set, del } = fieldChanges(base, scratch);
    const fields = Object.keys(set).length > 0 || del.length > 0;
    const stale = await changeRoom(server, session, room, {
      set, del, members,
      by: { uid: session.uid, anyOf: MEMBER_OP },
      expectVersion: fields ? base.version : undefined,
      command: 'MODE',
      params: [room.name, ...formatChanges(applied)],
    });
    if (!stale) {
      for (const reply of replies) reply();
      return;
    }
    base = roomFromSnapshot(stale, () => undefined, () => {});
    // Local members keep their sessions, for +o/+v by nick.
    for (const [member, flags] of room.members) if (base.remote.delete(member.uid)) base.members.set(member, stale.members.get(member.uid) ?? flags);
  }
  throw failError('MODE', 'TEMPORARILY_UNAVAILABLE', room.name, 'The room kept changing; try again');
}

/** Runs the mode string on `room` (a scratch copy): what changed, members' flag changes, and the replies to send. */
function tryModes(server: Server, session: Session, room: Room, modestring: string, args: string[], replies: (() => void)[]) {
  const applied: ModeChange[] = [];
  const members: Record<string, MemberChange> = {};
  let adding = true;
  let paramModes = 0;
  for (const mode of modestring) {
    if (mode === '+' || mode === '-') {
      adding = mode === '+';
      continue;
    }
    const needsParam = 'ovbeI'.includes(mode) || (adding && 'kl'.includes(mode));
    let param: string | undefined;
    // -k may name the key or not; either way it clears it.
    if (needsParam || (!adding && mode === 'k')) {
      param = args.shift();
      if (param === undefined && needsParam) {
        if (isMaskList(mode)) replies.push(() => sendMaskList(session, room, mode));
        else replies.push(() => session.numeric(N.ERR_NEEDMOREPARAMS, 'MODE', 'Not enough parameters'));
        continue;
      }
      if (param !== undefined && ++paramModes > MAX_PARAM_MODES) break;
    }
    try {
      const change = applyRoomMode(server, session, room, { adding, mode, param }, members);
      if (change) applied.push(change);
    } catch (err) {
      replies.push(() => server.replyError(session, 'MODE', err));
    }
  }
  return { applied, members: Object.keys(members).length > 0 ? members : undefined };
}

/** Apply one change; returns what to announce, or null if nothing changed. */
function applyRoomMode(server: Server, session: Session, room: Room, change: ModeChange, members: Record<string, MemberChange>): ModeChange | null {
  const { adding, mode, param } = change;
  if (ROOM_FLAG_MODES.includes(mode)) {
    if (room.flags.has(mode) === adding) return null;
    if (adding) room.flags.add(mode);
    else room.flags.delete(mode);
    return { adding, mode };
  }
  switch (mode) {
    case 'o':
    case 'v': {
      const target = room.memberByNick(param!);
      if (!target) {
        const local = server.findNick(param!);
        if (local) throw numericError(N.ERR_USERNOTINCHANNEL, local.nick, room.name, "They aren't on that channel");
        throw numericError(N.ERR_NOSUCHNICK, param!, 'No such nick/channel');
      }
      const bits = (members[target.uid] ??= { add: 0, remove: 0 });
      const bit = mode === 'o' ? MEMBER_OP : MEMBER_VOICE;
      if (((changeFlags(target.flags, bits) & bit) !== 0) === adding) return null;
      bits.add = adding ? bits.add | bit : bits.add & ~bit;
      bits.remove = adding ? bits.remove & ~bit : bits.remove | bit;
      return { adding, mode, param: target.nick };
    }
    case 'b':
    case 'e':
    case 'I':
      return changeMaskList(server, session, room, { adding, mode, param: param! });
    case 'k': {
      if (!adding) {
        if (room.password === null) return null;
        room.password = null;
        return { adding, mode, param: '*' };
      }
      if (!/^[^\s,:]{1,23}$/.test(param!)) throw numericError(N.ERR_INVALIDKEY, room.name, 'Key is not well-formed');
      room.password = param!;
      return { adding, mode, param: param! };
    }
    case 'l': {
      if (!adding) {
        if (room.limit === null) return null;
        room.limit = null;
        return { adding, mode };
      }
      const limit = Number(param);
      if (!/^\d{1,9}$/.test(param!) || limit < 1) {
        throw numericError(N.ERR_INVALIDMODEPARAM, room.name, 'l', shownParam(param!), 'Invalid limit: must be a positive number');
      }
      room.limit = limit;
      return { adding, mode, param: String(limit) };
    }
    default:
      throw numericError(N.ERR_UNKNOWNMODE, mode, 'is unknown mode char to me');
  }
}

/**
 * A mode parameter as ERR_INVALIDMODEPARAM repeats it: `<target> <mode char> <param> :<text>`
 * has the parameter in the middle, so one that is empty, has a space or starts with `:` (sent as
 * a trailing parameter) is shown as `*`.
 */
function shownParam(param: string): string {
  return param === '' || param.includes(' ') || param.startsWith(':') ? '*' : param;
}

export function formatChanges(changes: ModeChange[]): string[] {
  let letters = '';
  let sign = '';
  const params: string[] = [];
  for (const change of changes) {
    const wanted = change.adding ? '+' : '-';
    if (wanted !== sign) letters += sign = wanted;
    letters += change.mode;
    if (change.param !== undefined) params.push(change.param);
  }
  return [letters, ...params];
}

const isMaskList = (mode: string): mode is MaskListMode => mode === 'b' || mode === 'e' || mode === 'I';

const LIST_NAMES: Record<MaskListMode, string> = { b: 'ban', e: 'exception', I: 'invite exception' };

/** +b/-b, +e/-e, +I/-I: an entry added or removed, host masks completed, extbans checked. */
function changeMaskList(server: Server, session: Session, room: Room, change: { adding: boolean; mode: MaskListMode; param: string }): ModeChange | null {
  const { adding, mode } = change;
  const checked = listMask(mode, change.param);
  if ('invalid' in checked) throw numericError(N.ERR_INVALIDMODEPARAM, room.name, mode, shownParam(change.param), checked.invalid);
  const { mask } = checked;
  if (!adding) return room.removeMask(mode, mask) ? { adding, mode, param: mask } : null;
  if (mask.length > MAX_MASK_LENGTH) {
    throw numericError(N.ERR_INVALIDMODEPARAM, room.name, mode, shownParam(mask), `Mask too long (at most ${MAX_MASK_LENGTH} characters)`);
  }
  if (room.list(mode).length >= server.config.limits.list_max_bans) {
    throw numericError(N.ERR_BANLISTFULL, room.name, mask, `Channel ${LIST_NAMES[mode]} list is full`);
  }
  return room.addMask(mode, mask, session.prefix) ? { adding, mode, param: mask } : null;
}

const LIST_NUMERICS: Record<MaskListMode, [entry: string, end: string]> = {
  b: [N.RPL_BANLIST, N.RPL_ENDOFBANLIST],
  e: [N.RPL_EXCEPTLIST, N.RPL_ENDOFEXCEPTLIST],
  I: [N.RPL_INVEXLIST, N.RPL_ENDOFINVEXLIST],
};

function sendMaskList(session: Session, room: Room, mode: MaskListMode): void {
  const [entry, end] = LIST_NUMERICS[mode];
  for (const item of room.list(mode)) session.numeric(entry, room.name, item.mask, item.setBy, String(item.setAt));
  session.numeric(end, room.name, `End of channel ${LIST_NAMES[mode]} list`);
}
