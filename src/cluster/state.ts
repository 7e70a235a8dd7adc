/**
 * Shared ephemeral state: users, nicks, rooms, per-address connection counts.
 *
 * Contract (test/contract/cluster-state.contract.ts checks both implementations):
 * - Every method may await (one Redis round trip); none is for the hot path. Each is one
 *   atomic step: in Redis one Lua script, in memory one synchronous block. Two calls race only
 *   as a whole; the loser sees the winner's result.
 * - Every changing call is fenced by this node's lease (nodes.ts) and rejects with
 *   `FencedError` once it is lost. Reads are not fenced.
 * - Nicks and room names are case-folded here (casemapping ascii, protocol `foldCase`); the
 *   display form is kept as given. Names longer than keys.MAX_NAME_LENGTH or not valid Unicode
 *   reject with `ClusterInputError` before anything is written.
 * - A node changes only its own users (`node` of the record): others reject with 'not-owner'.
 *   Any node may change rooms (a KICK by a user on another node).
 * - `announce`: an event sequenced into the room log(s) in the same atomic step as the change
 *   (bus.ts: the log's order is the order of the changes), so a JOIN, a MODE +l or a QUIT sits
 *   exactly between the messages before and after it. The returned `stamp` is its place.
 * - Users are listed in uid order; `after` is exclusive, `limit` caps what is returned.
 */
import type { ClusterEvent, RoomRenameEvent, Stamp } from './events.js';

export interface UserRecord {
  /** TS6-style id from `NodeLease.newUid()`; never reused. */
  uid: string;
  /** Display form of the nick. */
  nick: string;
  /** The node the user is connected to (set by addUser to the calling node). */
  node: string;
  user: string;
  host: string;
  realname: string;
  account: string | null;
  away: string | null;
  /** Connection time, ms since the epoch. */
  since: number;
  /**
   * User mode letters the network shows (the core keeps `i` invisible and `o` operator here),
   * '' for none. `counts()` counts the users with `i` and with `o` in the same step as each change.
   */
  modes: string;
  /** Connected over TLS (WHOIS 671). */
  secure: boolean;
}

export type UserFields = Partial<Pick<UserRecord, 'nick' | 'user' | 'host' | 'realname' | 'account' | 'away' | 'modes'>>;

/** Network-wide totals, read in one step (LUSERS). */
export interface NetworkCounts {
  users: number;
  /** Users with `i` in their modes. */
  invisible: number;
  /** Users with `o` in their modes. */
  opers: number;
  rooms: number;
}

/** One room of a user, as WHOIS shows it: the name as created, the user's member flags, the room's `modes` field. */
export interface Membership {
  name: string;
  flags: number;
  modes: string;
}

/** A room as LIST shows it: `modes` and `topic` are the room's fields of those names ('' and null when unset). */
export interface ListedRoom {
  name: string;
  count: number;
  modes: string;
  topic: string | null;
  /** When the room was made (seconds; its `created` field), null if not known. */
  created: number | null;
}

/** A `created` field as seconds, null when absent or not a number (state from another version). */
export function createdTime(field: string | undefined | null): number | null {
  if (field === undefined || field === null || field === '') return null;
  const seconds = Number(field);
  return Number.isFinite(seconds) ? seconds : null;
}

export type NickResult = { ok: true; stamps: Stamp[] } | { ok: false; reason: 'in-use'; holder: string } | { ok: false; reason: 'no-such-user' | 'not-owner' };

/** A room's shared state. `fields` is generic; the core's conventions (step 2): `name` (display),
 * `modes` (flag letters, e.g. "nt"), `key`, `limit` (decimal; enforced by join), `topic` (JSON),
 * `b:<mask>` bans, `i:<uid>` invites, `created`. */
export interface RoomSnapshot {
  name: string;
  /** 1 at creation, +1 for every change of `fields`; membership does not change it. */
  version: number;
  fields: Record<string, string>;
  /** uid -> member flags (op, voice; the core's bits). */
  members: Map<string, number>;
  /**
   * Read in the same atomic step: the members' details (what NAMES and WHO show), and how far
   * the room's log is (`seq`, 0 for a log never written), so a node that starts following the
   * room from `seq` applies exactly the changes made after this snapshot.
   */
  users: Map<string, MemberDetails>;
  seq: number;
}

/** What a room's other nodes show of a member (a user record without its node and times). */
export type MemberDetails = Pick<UserRecord, 'nick' | 'user' | 'host' | 'realname' | 'account' | 'away'>;

/** Who asks for a room change, when the change needs privilege: a member holding one of `anyOf` flags. */
export interface Actor {
  uid: string;
  anyOf: number;
}

export interface JoinOptions {
  /** Member flags for the joining user when the room exists. */
  flags: number;
  /**
   * Compare-and-set on the room's state: the version the caller checked key, +i, invite and
   * bans against. null: the caller saw no room. A different version (or a room appearing or
   * vanishing) refuses with 'stale' and the current state, to check again. Omit to join
   * whatever the state (services, opers).
   */
  expectVersion?: number | null;
  /** The room does not exist: create it with these fields and give the creator these flags. */
  create?: { fields: Record<string, string>; flags: number };
  /** Skip the `limit` check (an invited user, an oper). */
  ignoreLimit?: boolean;
  /**
   * Fields deleted in the same step (the invitation the join uses up, so it lets in once even
   * if a KICK follows at once). When one existed the version goes up by one, and the stamp
   * carries the new version, as a `changeRoom` does.
   */
  del?: string[];
  announce?: ClusterEvent;
}

export type JoinResult =
  | { ok: true; created: boolean; version: number; count: number; flags: number; stamp?: Stamp }
  | { ok: false; reason: 'stale'; room: RoomSnapshot | null }
  /** At or over `limit` members. */
  | { ok: false; reason: 'full'; count: number }
  /** No such room and no `create`. */
  | { ok: false; reason: 'absent' }
  /** No such room, and its name was renamed away lately (renameRoom's redirect): `name` is the room's new name. */
  | { ok: false; reason: 'renamed'; name: string }
  | { ok: false; reason: 'already-member' };

export interface LeaveOptions {
  /** A KICK: the kicker must be a member with one of these flags. Omit for PART (or an oper KILL). */
  by?: Actor;
  announce?: ClusterEvent;
}

export type LeaveResult =
  /** `remaining` 0: the room is gone (state and members), its log kept for a day. */
  | { ok: true; remaining: number; stamp?: Stamp }
  | { ok: false; reason: 'not-member' | 'not-allowed' };

export interface RoomChange {
  /** Compare-and-set: refuse with 'stale' unless the state is at this version. Omit to apply in
   * arrival order (commuting changes such as adding a ban); the returned version tells the order. */
  expectVersion?: number;
  set?: Record<string, string>;
  del?: string[];
  /**
   * Members' flags changed in the same step (MODE +o/+v), as bits added and removed rather
   * than new values: two ops changing one member at once (+o on one node, +v on another)
   * both take effect, in either order. Uids that are not members are skipped.
   */
  members?: Record<string, MemberChange>;
  by?: Actor;
  announce?: ClusterEvent;
}

/** Flag bits a member gains and loses: new flags = (flags | add) & ~remove. */
export interface MemberChange {
  add: number;
  remove: number;
}

export function changeFlags(flags: number, change: MemberChange): number {
  return (flags | change.add) & ~change.remove;
}

export type ChangeResult =
  | { ok: true; version: number; stamp?: Stamp }
  | { ok: false; reason: 'stale'; room: RoomSnapshot }
  | { ok: false; reason: 'absent' | 'not-allowed' };

export interface RenameOptions {
  /** Who renames: a member holding one of `anyOf` flags. */
  by: Actor;
  /** Fields set in the same step. */
  set?: Record<string, string>;
  /**
   * How long JOIN of the old name answers 'renamed' (and no room of that name can be made),
   * seconds; 0 for none. A rename back to the old name while it lasts is allowed.
   */
  redirectSeconds: number;
  /** Sequenced into the old name's log; the state adds `after` (the new name's log position). */
  announce: RoomRenameEvent;
}

export type RenameResult =
  /** `stamp`: the event's place in the old name's log; `after`: the new name's log position it starts from. */
  | { ok: true; version: number; stamp: Stamp; after: number }
  /** `in-use`: a room of the new name exists, or the name points at another renamed room. */
  | { ok: false; reason: 'absent' | 'not-allowed' | 'in-use' };

export interface SharedState {
  /** Records a user of this node and claims its nick, atomically: of racing claims for one
   * nick, on any nodes, exactly one gets ok. Rejects ('ok: false') also if the uid exists. */
  addUser(user: UserRecord): Promise<NickResult>;
  /**
   * Atomic rename: the new nick is claimed and the old one freed, or nothing changes. A change
   * of case only (alice -> Alice) always succeeds. `announce` goes to each of the user's rooms.
   */
  renameUser(uid: string, nick: string, announce?: ClusterEvent): Promise<NickResult>;
  /** Changes details (not the nick: renameUser). `announce` goes to each of the user's rooms. */
  updateUser(uid: string, fields: Omit<UserFields, 'nick'>, announce?: ClusterEvent): Promise<NickResult>;
  /**
   * Removes a user: frees its nick, drops its memberships (rooms left empty are removed).
   * `announce` (its QUIT) goes to each of its rooms first. Resolves with the rooms it was in,
   * or null when there was no such user of this node.
   */
  removeUser(uid: string, announce?: ClusterEvent): Promise<{ rooms: string[]; stamps: Stamp[] } | null>;
  user(uid: string): Promise<UserRecord | null>;
  userByNick(nick: string): Promise<UserRecord | null>;
  /** Bounded scan in uid order (WHO, LUSERS); `next` is the cursor, null at the end. */
  listUsers(after: string | null, limit: number): Promise<{ users: UserRecord[]; next: string | null }>;
  countUsers(): Promise<number>;
  /** Each existing user's modes (unknown uids left out): WHO's `*` for a room's members on other nodes. */
  modesOf(uids: readonly string[]): Promise<Map<string, string>>;
  /** Users, invisible users, operators and rooms of the whole network, in one step; walks nothing. */
  counts(): Promise<NetworkCounts>;
  /** Rooms the user is in (names as created). */
  roomsOf(uid: string): Promise<string[]>;
  /** The user's rooms with its flags in each and each room's modes, in one step, sorted by name (WHOIS 319). */
  memberships(uid: string): Promise<Membership[]>;

  /** `details: false`: `users` left empty (a caller that has the members already; big rooms cost one lookup per member). */
  room(name: string, options?: { details?: boolean }): Promise<RoomSnapshot | null>;
  join(room: string, uid: string, options: JoinOptions): Promise<JoinResult>;
  /** PART, or KICK with `by`. */
  leave(room: string, uid: string, options?: LeaveOptions): Promise<LeaveResult>;
  /** Changes room fields and members' flags, bumping the version by one (MODE, TOPIC, bans, invites). */
  changeRoom(room: string, change: RoomChange): Promise<ChangeResult>;
  /**
   * RENAME: the room's state and members move to the new name (or, for a change of case, only
   * its display name changes), the version goes up by one, members' room lists follow, and the
   * old name redirects to the new one for `redirectSeconds`. `announce` is sequenced into the
   * old name's log in the same step, while the members are still there.
   */
  renameRoom(room: string, name: string, options: RenameOptions): Promise<RenameResult>;
  /**
   * Bounded scan of existing rooms in folded-name order (LIST); names as created. Each page is
   * read in one step (name, member count, modes and topic of a room agree with each other).
   */
  listRooms(after: string | null, limit: number): Promise<{ rooms: ListedRoom[]; next: string | null }>;

  /**
   * One more connection from `address` on this node, refused (count unchanged) when the
   * network-wide count is already `limit` or more. Counts are kept per node, so a dead node's
   * share disappears when it is reaped.
   */
  addConnection(address: string, limit?: number): Promise<{ ok: boolean; count: number }>;
  /** One connection fewer on this node; resolves with the network-wide count after. */
  removeConnection(address: string): Promise<number>;
  connections(address: string): Promise<number>;
}
