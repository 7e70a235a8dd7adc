import { foldCase, matchGlob } from '../protocol/index.js';
import type { MemberDetails } from '../cluster/state.js';
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

export interface Ban {
  mask: string;
  setBy: string;
  setAt: number;
  /** The mask case-folded once, for matchGlob. */
  folded: string;
}

/** A member connected to another node, as this node's copy of the room knows it. */
export interface RemoteMember extends MemberDetails {
  uid: string;
  flags: number;
}

/** The flag modes a room can carry (CHANMODES type D). */
export const ROOM_FLAG_MODES = 'imnst';

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
  /** Flag modes set on the room: i, m, n, s, t. */
  readonly flags = new Set<string>(['n', 't']);
  password: string | null = null;
  limit: number | null = null;
  readonly bans: Ban[] = [];
  /** Invitations by the invited user's uid, with the time they were given (room-fields.ts `i:<uid>`). */
  readonly invites = new Map<string, number>();

  constructor(readonly name: string) {
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

  isBanned(session: Session): boolean {
    if (this.bans.length === 0) return false;
    const subject = foldCase(session.prefix);
    return this.bans.some((ban) => matchGlob(ban.folded, subject));
  }

  addBan(mask: string, setBy: string, setAt = Math.floor(Date.now() / 1000)): boolean {
    const folded = foldCase(mask);
    if (this.bans.some((ban) => ban.folded === folded)) return false;
    this.bans.push({ mask, setBy, setAt, folded });
    return true;
  }

  removeBan(mask: string): boolean {
    const folded = foldCase(mask);
    const index = this.bans.findIndex((ban) => ban.folded === folded);
    if (index === -1) return false;
    this.bans.splice(index, 1);
    return true;
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
