import { foldCase } from '../protocol/index.js';
import type { MemberDetails } from '../cluster/state.js';
import { addMask, isMute, maskMatches, removeMask, subjectOf, type MaskEntry, type MaskListMode, type MaskSubject } from './room-masks.js';
import type { Outgoing } from './outgoing.js';
import type { RoomLogQueue } from './room-log.js';
import type { Session } from './session.js';

/** Membership flags; a member's prefix is derived from them (PREFIX=(ov)@+). */
export const MEMBER_OP = 1;
export const MEMBER_VOICE = 2;

export interface Topic {
  text: string;
  setBy: string;
  setAt: number;
}

/** A member connected to another node, as this node's copy of the room knows it. */
export interface RemoteMember extends MemberDetails {
  uid: string;
  flags: number;
}

/** The flag modes a room can carry (CHANMODES type D); C: no CTCP but ACTION. */
export const ROOM_FLAG_MODES = 'Cimnst';

/**
 * This node's copy of a room (network-wide state lives in the cluster's shared state; see
 * core/room-copies.ts). It exists while the room has members here and changes only as the
 * room's log is delivered, so every node's copy goes through the same states in the same order.
 */
export class Room {
  readonly key: string;
  /** Members on this node: the hot path's loop. */
  readonly members = new Map<Session, number>();
  /** Members on other nodes, by uid (NAMES, KICK and MODE targets, counts). */
  readonly remote = new Map<string, RemoteMember>();
  /** The shared state's version this copy reflects, and the last log sequence applied to it. */
  version = 0;
  applied = 0;
  /** Time of the last log entry applied (0: none yet): CHATHISTORY shows nothing later. */
  appliedTime = 0;
  /**
   * Messages stored before this time were stored before this node began following the room's
   * log (0: not a followed copy): CHATHISTORY's applied-time cut does not hide them. The clock
   * then, or past the newest stored message (room-copies.ts storedUpTo).
   */
  copiedAt = 0;
  /** State changes up to this log sequence are in the copy already (a reconcile's snapshot, room-resync.ts). */
  stateSeq = 0;
  /**
   * The log sequence of the snapshot this copy began from (0: it began empty). Entries at or
   * before it are followed but never delivered: the copy only waits for their messages to be
   * stored (room-copies.ts).
   */
  base = 0;
  /** Time of the last message delivered (a gap is filled from history after it). */
  lastMessageTime = 0;
  /** Entries waiting their turn (room-log.ts): null while nothing waits, as most of the time. */
  queue: RoomLogQueue | null = null;
  createdAt = Math.floor(Date.now() / 1000);
  topic: Topic | null = null;
  /** Flag modes set on the room: C, i, m, n, s, t. */
  readonly flags = new Set<string>(['n', 't']);
  password: string | null = null;
  limit: number | null = null;
  /** The mask lists (room-masks.ts): +b, +e, +I. */
  readonly bans: MaskEntry[] = [];
  readonly exceptions: MaskEntry[] = [];
  readonly inviteExceptions: MaskEntry[] = [];
  /** Invitations by the invited user's uid, with the time they were given (room-fields.ts `i:<uid>`). */
  readonly invites = new Map<string, number>();
  /** When the room was last renamed (ms, 0: never): RENAME's cool-down (core/room-rename.ts). */
  renamedAt = 0;

  /** `name` changes only by a RENAME that changes its case (the key stays); any other rename makes a new copy. */
  constructor(public name: string) {
    this.key = foldCase(name);
  }

  /** Members on every node. */
  get size(): number {
    return this.members.size + this.remote.size;
  }

  /** A local member by uid (rare paths: a linear walk, nothing kept per member). */
  localMember(uid: string): Session | undefined {
    for (const member of this.members.keys()) if (member.uid === uid) return member;
    return undefined;
  }

  /** A member on any node by nick, or undefined. */
  memberByNick(nick: string): { uid: string; nick: string; prefix: string; flags: number } | undefined {
    const folded = foldCase(nick);
    for (const [member, flags] of this.members) {
      if (member.nickKey === folded && member.state !== 'closing') return { uid: member.uid, nick: member.nick, prefix: member.prefix, flags };
    }
    for (const m of this.remote.values()) {
      if (foldCase(m.nick) === folded) return { uid: m.uid, nick: m.nick, prefix: `${m.nick}!${m.user}@${m.host}`, flags: m.flags };
    }
    return undefined;
  }

  isOp(session: Session): boolean {
    return ((this.members.get(session) ?? 0) & MEMBER_OP) !== 0;
  }

  isVoiced(session: Session): boolean {
    return ((this.members.get(session) ?? 0) & (MEMBER_OP | MEMBER_VOICE)) !== 0;
  }

  /** `@`, `+`, or with multi-prefix both, highest first. */
  prefixOf(session: Session, all: boolean): string {
    const flags = this.members.get(session) ?? 0;
    let prefix = '';
    if (flags & MEMBER_OP) prefix += '@';
    if (flags & MEMBER_VOICE && (all || prefix === '')) prefix += '+';
    return prefix;
  }

  list(mode: MaskListMode): MaskEntry[] {
    return mode === 'b' ? this.bans : mode === 'e' ? this.exceptions : this.inviteExceptions;
  }

  addMask(mode: MaskListMode, mask: string, setBy: string, setAt?: number): boolean {
    return addMask(this.list(mode), mask, setBy, setAt);
  }

  removeMask(mode: MaskListMode, mask: string): boolean {
    return removeMask(this.list(mode), mask);
  }

  /** Kept out (JOIN, KNOCK): a ban that is not a mute matches, and no exception does. */
  isBanned(session: Session): boolean {
    if (this.bans.length === 0) return false;
    const subject = subjectOf(session);
    return this.bans.some((ban) => !isMute(ban) && maskMatches(ban.folded, subject)) && !this.isExempt(subject);
  }

  /** May not speak unless voiced: any ban matches, a mute or not, and no exception does. */
  isSilenced(session: Session): boolean {
    if (this.bans.length === 0) return false;
    const subject = subjectOf(session);
    return this.bans.some((ban) => maskMatches(ban.folded, subject)) && !this.isExempt(subject);
  }

  /** Let past +i without an invitation (+I). */
  isInviteExempt(session: Session): boolean {
    if (this.inviteExceptions.length === 0) return false;
    const subject = subjectOf(session);
    return this.inviteExceptions.some((entry) => maskMatches(entry.folded, subject));
  }

  private isExempt(subject: MaskSubject): boolean {
    return this.exceptions.some((entry) => maskMatches(entry.folded, subject));
  }

  /** The mode string for RPL_CHANNELMODEIS; the key is shown to members only. */
  modeString(showKey: boolean): string[] {
    let letters = '+' + [...this.flags].sort().join('');
    const params: string[] = [];
    if (this.password !== null) {
      letters += 'k';
      params.push(showKey ? this.password : '*');
    }
    if (this.limit !== null) {
      letters += 'l';
      params.push(String(this.limit));
    }
    return [letters, ...params];
  }

  /** Send to every member but `except`. The hot path: no allocation per recipient. */
  broadcast(out: Outgoing, except?: Session): void {
    for (const member of this.members.keys()) {
      if (member !== except) member.deliver(out);
    }
  }
}
