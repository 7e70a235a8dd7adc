import { foldCase, matchGlob } from '../protocol/index.js';
import type { Outgoing } from './outgoing.js';
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

/** The flag modes a room can carry (CHANMODES type D). */
export const ROOM_FLAG_MODES = 'imnst';

export class Room {
  readonly key: string;
  readonly members = new Map<Session, number>();
  readonly createdAt = Math.floor(Date.now() / 1000);
  topic: Topic | null = null;
  /** Flag modes set on the room: i, m, n, s, t. */
  readonly flags = new Set<string>(['n', 't']);
  password: string | null = null;
  limit: number | null = null;
  readonly bans: Ban[] = [];

  constructor(readonly name: string) {
    this.key = foldCase(name);
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
