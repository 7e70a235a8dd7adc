/**
 * What travels on the bus: a versioned discriminated union. Every event names its origin node
 * (a node knows its own events by it); `v` is bumped only for a change old nodes cannot read,
 * and a node skips (and logs) an event whose `v` or `kind` it does not know, so a rolling
 * upgrade can add kinds. Events are immutable once published: the memory bus hands the very
 * object to every follower, so handlers must not mutate what they receive.
 *
 * Which events exist is the core's business (step 2 of issue 14 fills in the chat payloads);
 * the cluster layer itself makes only `quit` (when it reaps a dead node's users).
 */

import type { MemberChange } from './state.js';

interface EventBase {
  v: 1;
  /** The node that published it (for `quit` of a reaped user: the reaping node). */
  origin: string;
}

/** PRIVMSG / NOTICE / TAGMSG to a room (room log) or to a user (its node's log). */
export interface MessageEvent extends EventBase {
  kind: 'message';
  command: 'PRIVMSG' | 'NOTICE' | 'TAGMSG';
  /** Sender's uid and its `nick!user@host` at the time. */
  from: string;
  source: string;
  /** The room name, or the target user's uid for a direct message. */
  target: string;
  text: string;
  /** Client-only tags (`+typing`, `+draft/reply`), passed through. */
  tags: Record<string, string>;
  account: string | null;
  /**
   * The publishing node's number for this publish: it recognises its own message read back
   * from the log after a publish whose outcome was unknown (core/room-messages.ts).
   */
  pub?: number;
  /**
   * Which of the sender's connections sent it (Session.id), when the sender has several
   * (core/multiclient.ts): that one gets the echo, the others the message.
   */
  conn?: number;
  /**
   * A direct message carries its own msgid and time (ms): the sender's node stored it in
   * history under them before sending, so it reaches no one before it is durable. A room
   * message takes both from its stamp.
   */
  msgid?: string;
  time?: number;
}

/**
 * REDACT (draft/message-redaction) of a stored message, published once the store deleted it:
 * into the room's log (so every node tells its members in the room's order), or into the
 * recipient's node inbox for a direct message.
 */
export interface RedactEvent extends EventBase {
  kind: 'redact';
  /** The redacter's uid, `nick!user@host` and account at the time. */
  from: string;
  source: string;
  account: string | null;
  /** The room name as the redacter wrote it, or the recipient's uid for a direct message. */
  target: string;
  /** The redacted message. */
  msgid: string;
  /** Already cut to fit the line with the redacter's prefix; null when none was given. */
  reason: string | null;
  /** Direct: the recipient's account key, the conversation's other side; told only while logged in to it. */
  recipientAccount?: string;
}

/** A user entered a room; carries what other nodes need to show it in NAMES/WHO. */
export interface JoinEvent extends EventBase {
  kind: 'join';
  uid: string;
  source: string;
  account: string | null;
  realname: string;
  flags: number;
  /** The joiner's away message, for away-notify. */
  away?: string | null;
  /** Room fields the join deleted in its step (the invitation it used up). */
  del?: string[];
}

/** A user left a room: PART, or KICK when `by` is set. */
export interface PartEvent extends EventBase {
  kind: 'part';
  uid: string;
  source: string;
  reason: string;
  /** The kicker's `nick!user@host`, for a KICK. */
  by?: string;
  /** The kicker's uid: its node sends it the KICK as the reply to its own command. */
  kicker?: string;
}

/** A user left the network: announced to each of its rooms. */
export interface QuitEvent extends EventBase {
  kind: 'quit';
  uid: string;
  nick: string;
  reason: string;
}

/** A user's nick changed (by the user, or forced by the network). */
export interface NickEvent extends EventBase {
  kind: 'nick';
  uid: string;
  source: string;
  nick: string;
}

/** Room state changed (modes, key, limit, topic, bans, invites): the fields set and deleted. */
export interface RoomStateEvent extends EventBase {
  kind: 'room';
  /** Who did it (`nick!user@host` or a server name) and the IRC form, e.g. `MODE #r +l 10`. */
  by: string;
  set: Record<string, string>;
  del: string[];
  line?: string;
  /** Who did it, as a uid (its node answers it with the event), and the line shown: `MODE` or `TOPIC` and its parameters. */
  actor?: string;
  command?: 'MODE' | 'TOPIC';
  params?: string[];
  /** Members' flags changed in the same step (MODE +o/+v): bits added and removed (state.ts MemberChange). */
  members?: Record<string, MemberChange>;
  /** The actor's account, for the account tag. */
  account?: string | null;
}

/** A user's details changed (away, account, realname, host): away-notify, account-notify, chghost. */
export interface UserEvent extends EventBase {
  kind: 'user';
  uid: string;
  fields: Record<string, string | null>;
  /**
   * Unique per change (the node's id and a counter). The event reaches a node once per room it
   * shares with the user; a member told of this change is not told again, yet told of a later
   * change back to an earlier value (away, back, away again with the same text).
   */
  change?: string;
}

/**
 * RENAME (draft/channel-rename), sequenced into the old name's log in the same step as the
 * shared state moved the room (state.ts renameRoom). Each node with a copy moves it to the new
 * name at this turn and follows the new name's log from `after` on.
 */
export interface RoomRenameEvent extends EventBase {
  kind: 'rename';
  /** The name before and after, as the renamer wrote the new one. */
  from: string;
  name: string;
  /** The renamer's `nick!user@host`, uid and account. */
  by: string;
  actor: string;
  account: string | null;
  reason: string;
  /** Room fields set in the same step (the rename's time, for the cool-down). */
  set: Record<string, string>;
  /**
   * The new name's log position at the rename (added by the shared state; absent for a change
   * of case, which keeps its log): nothing of the renamed room is in that log before it.
   */
  after?: number;
}

/**
 * Room log: the sequences of `message` events that their publishing node (`origin`) has made
 * durable in history (`seqs`), or given up because the store refused them (`lost`). Followers
 * hold each message until its notice: a message reaches no client before it is stored.
 */
export interface StoredEvent extends EventBase {
  kind: 'stored';
  seqs: number[];
  lost: number[];
}

/** Node-addressed: end this user's session (KILL, K-line, a nick conflict after Redis lost data). */
export interface KillEvent extends EventBase {
  kind: 'kill';
  uid: string;
  /** Who asked (an oper's name, a nick for GHOST): for the target node's log. */
  by: string;
  /** The whole quit reason, as the target's rooms see it (`Killed (oper (reason))`). */
  reason: string;
  /** Set when the sender waits for the outcome: the target's node answers with a `killed` of this id. */
  request?: string;
}

/** Node-addressed: an operator changed this user's displayed host (CHGHOST); its node applies it. */
export interface ChghostEvent extends EventBase {
  kind: 'chghost';
  uid: string;
  host: string;
  /** The operator, for the target node's log. */
  by: string;
}

/**
 * Node-addressed, the answer to a `kill` with a `request`: 'done' once the session ended and
 * its nick is free network-wide, 'absent' when the node had no such user (it left meanwhile).
 */
export interface KilledEvent extends EventBase {
  kind: 'killed';
  request: string;
  uid: string;
  outcome: 'done' | 'absent';
}

/**
 * Node-addressed: how long has this user of yours been idle (WHOIS 317 asked on another node)?
 * Answered with an `idle` of the same request id.
 */
export interface IdleQueryEvent extends EventBase {
  kind: 'idle-query';
  request: string;
  uid: string;
}

/** Node-addressed, the answer to an `idle-query`: when the user last spoke (ms since the epoch), null if it is not here. */
export interface IdleEvent extends EventBase {
  kind: 'idle';
  request: string;
  uid: string;
  spoke: number | null;
}

/**
 * An invitation (core/remote-users.ts). In a room's log: the `i:<uid>` field set (INVITE) or
 * deleted (pushed out by newer ones; a JOIN uses one up in its own step, JoinEvent `del`), so every copy
 * follows, and `invite-notify` members see the line. In the invited user's node inbox: the
 * INVITE line for that user.
 */
export interface InviteEvent extends EventBase {
  kind: 'invite';
  room: string;
  /** The invited user. */
  uid: string;
  nick: string;
  /** The inviter (`nick!user@host`, uid, account); absent when the event only removes invites. */
  by?: string;
  actor?: string;
  account?: string | null;
  set: Record<string, string>;
  del: string[];
}

/** Node-addressed: the network changed your user's nick (a conflict resolved elsewhere). */
export interface ForcedNickEvent extends EventBase {
  kind: 'forced-nick';
  uid: string;
  nick: string;
}

/**
 * Network log (core/network-log.ts), which every node follows: a nick given up (a quit or a
 * nick change), as WHOWAS shows it on every node; for users reaped with their node, the reaper
 * sets it from their shared records.
 */
export interface GivenUpNick {
  nick: string;
  user: string;
  host: string;
  realname: string;
  account: string | null;
  /** The server name of the node the user was on. */
  server: string;
  at: number;
}

/** Network log: a user finished registering (MONITOR 730 everywhere). */
export interface SignOnEvent extends EventBase {
  kind: 'signon';
  uid: string;
  nick: string;
  /** `nick!user@host`, for RPL_MONONLINE. */
  source: string;
}

/** Network log: a user left the network (MONITOR 731; WHOWAS on the other nodes). */
export interface SignOffEvent extends EventBase {
  kind: 'signoff';
  uid: string;
  nick: string;
  entry?: GivenUpNick;
}

/** Network log: a user's nick changed from `nick` to `to` (MONITOR 731 and 730; WHOWAS of `nick`). */
export interface RenamedEvent extends EventBase {
  kind: 'renamed';
  uid: string;
  nick: string;
  to: string;
  /** The new `nick!user@host`. */
  source: string;
  entry: GivenUpNick;
}

/**
 * Network log: a user's details changed (away, account, realname): extended-monitor's AWAY,
 * ACCOUNT and SETNAME lines to those who monitor the nick without sharing a room with it.
 */
export interface DetailsEvent extends EventBase {
  kind: 'details';
  uid: string;
  nick: string;
  source: string;
  /** The account after the change, for the account tag. */
  account: string | null;
  fields: { away?: string | null; account?: string | null; realname?: string; host?: string };
}

/** Network log: an operator's WALLOPS, for +w users of every node. */
export interface WallopsEvent extends EventBase {
  kind: 'wallops';
  source: string;
  text: string;
  account: string | null;
}

/**
 * Network log: a K-line or D-line was added (already saved in the store the nodes share) or
 * removed. Every node updates its in-memory bans; on `add` it drops its own matching users
 * with `reason`, the quit reason the setting node used.
 */
export interface ServerBanEvent extends EventBase {
  kind: 'server-ban';
  action: 'add' | 'remove';
  ban: { kind: 'kline' | 'dline'; mask: string; reason: string; setBy: string; setAt: number; expiresAt: number | null };
  reason: string;
}

/**
 * Node-addressed, multiclient across nodes (core/relay.ts): from the node holding a client's
 * socket to the node of the user it joins. `attach` opens link `link` (first event); `lines`
 * are the client's input lines in order (latin1, byte for byte); `end` says the socket closed.
 */
export interface RelayUpEvent extends EventBase {
  kind: 'relay-up';
  link: string;
  attach?: RelayAttach;
  lines?: string[];
  end?: string;
}

/** What the user's node needs of a connection that registered elsewhere to join the user. */
export interface RelayAttach {
  /** The user it joins: its uid and the nick the connection asked for. */
  uid: string;
  nick: string;
  account: string;
  caps: string[];
  capVersion: number;
  address: string;
  secure: boolean;
  transport: 'tcp' | 'tls' | 'ws' | 'wss';
}

/**
 * Node-addressed, the other way: output for the client (`data`, latin1), then possibly the
 * link's end: `close` (after the data) or `destroy` (the connection ended), or `refused` (it
 * may not join: `lines` gives back the input that arrived meanwhile, to run where it came from).
 */
export interface RelayDownEvent extends EventBase {
  kind: 'relay-down';
  link: string;
  data?: string;
  end?: 'close' | 'destroy' | 'refused';
  lines?: string[];
}

export type ClusterEvent =
  | MessageEvent
  | RelayUpEvent
  | RelayDownEvent
  | RedactEvent
  | RoomRenameEvent
  | JoinEvent
  | PartEvent
  | QuitEvent
  | NickEvent
  | RoomStateEvent
  | UserEvent
  | KillEvent
  | ChghostEvent
  | ForcedNickEvent
  | StoredEvent
  | KilledEvent
  | IdleQueryEvent
  | IdleEvent
  | InviteEvent
  | SignOnEvent
  | SignOffEvent
  | RenamedEvent
  | DetailsEvent
  | WallopsEvent
  | ServerBanEvent
  | MetadataEvent;

/**
 * draft/metadata-2: an account's metadata changed (already in the store), on the network log so
 * that every node tells its subscribers (core/metadata/notify.ts).
 */
export interface MetadataEvent extends EventBase {
  kind: 'metadata';
  /** The user whose metadata it is (uid, nick at the time) and its folded account key. */
  uid: string;
  nick: string;
  account: string;
  /** The uid of the session that made the change: the spec tells it nothing of its own change. */
  by: string;
  /** In the order made; `value` null for a key removed. At most limits.metadata_max_keys. */
  changes: { key: string; value: string | null }[];
}

/** The kinds this version reads; anything else is skipped. */
export const EVENT_KINDS: ReadonlySet<string> = new Set<ClusterEvent['kind']>([
  'message', 'join', 'part', 'quit', 'nick', 'room', 'user', 'kill', 'forced-nick', 'stored',
  'killed', 'idle-query', 'idle', 'invite', 'signon', 'signoff', 'renamed', 'details', 'wallops', 'server-ban', 'metadata',
  'redact', 'chghost', 'relay-up', 'relay-down', 'rename',
]);

/** Where an event was put in its log. */
export interface Stamp {
  /** 1, 2, 3... within the log (a room's, or a node's inbox), without holes. */
  seq: number;
  /** Milliseconds since the epoch, strictly increasing within the log. */
  time: number;
  /** Unique network-wide; sorts by time as a string (9 base-32 digits of `time` first). */
  msgid: string;
  /** Changes when the log restarts from 1 (Redis lost it); positions of another epoch are void. */
  epoch: string;
  /** The room's state version after the change, for events sequenced by a state change. */
  version?: number;
}

export type LogName = { room: string } | { node: string };

/** What the bus hands its one handler: an event in order, or news of a hole. */
export type Delivery =
  | { type: 'event'; log: LogName; event: ClusterEvent; stamp: Stamp; /** published by this node */ own: boolean }
  | {
      type: 'gap';
      log: LogName;
      /** First and last sequence that cannot be delivered (inclusive); `to` may be unknown after a restart. */
      from: number;
      to: number | null;
      /**
       * 'trimmed': older than the capped stream keeps; 'restarted': the log began a new epoch;
       * 'rewound': Redis came back with an older copy of the log, so `from`..`to`, delivered
       * already, are gone and new entries take those sequences (delivery goes on from `from`).
       */
      reason: 'trimmed' | 'restarted' | 'rewound';
    };

export function isKnownEvent(value: unknown): value is ClusterEvent {
  const e = value as Partial<ClusterEvent> | null;
  return typeof e === 'object' && e !== null && e.v === 1 && typeof e.origin === 'string' && EVENT_KINDS.has(e.kind as string);
}
