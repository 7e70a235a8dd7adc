/**
 * Users network-wide. The shared state (cluster/state.ts) holds every registered user's record
 * and its nick claim; this node's sessions are the local part of it, found by uid here and by
 * nick in `server.nicks`.
 *
 * - Registration claims the nick network-wide (`addUser`: of racing claims on any nodes exactly
 *   one wins, the others get 433). Before that a nick is only held on this node, so two local
 *   clients cannot both register it, and which of them may is decided when registration ends.
 * - A NICK after registration is an atomic `renameUser`: the new nick claimed and the old freed,
 *   or nothing changes.
 * - When a session ends its record is removed (`removeUser`), which frees the nick for everyone.
 *   `session.removal` settles once that is done (NickServ GHOST waits for it).
 * - Lookups by nick try this node first (no await: the hot path of a direct message to a local
 *   user) and then the shared state.
 *
 * The same code runs on the in-memory cluster of one process.
 */
import { isValidNick } from '../protocol/index.js';
import type { Cluster } from '../cluster/cluster.js';
import { MAX_NAME_LENGTH } from '../cluster/keys.js';
import { FencedError } from '../cluster/nodes.js';
import type { NickResult, UserFields, UserRecord } from '../cluster/state.js';
import type { ClusterEvent, DetailsEvent, GivenUpNick } from '../cluster/events.js';
import { publishToNetwork } from './network-log.js';
import type { Logger } from '../observability/logger.js';
import type { Session } from './session.js';

/** The user modes other nodes see: i (invisible) and o (operator); w stays local. */
/** The user mode of a bot (IRCv3 bot-mode; ISUPPORT BOT=B, the WHO flag too). */
export const BOT_MODE = 'B';

export function userModesOf(session: Session): string {
  return (session.invisible ? 'i' : '') + (session.oper ? 'o' : '') + (session.bot ? BOT_MODE : '');
}

export class NetworkUsers {
  /** This node's sessions by uid, from the moment their nick is claimed until they end. */
  private readonly local = new Map<string, Session>();
  /** Counter for `UserEvent.change`. */
  private changes = 0;

  constructor(
    private readonly cluster: Cluster,
    private readonly logger: Logger,
    /** This node's server name, as WHOWAS shows it for a nick given up here. */
    private readonly serverName: string,
  ) {}

  /** The shared record of a local session, as it is now. */
  recordOf(session: Session): UserRecord {
    return {
      uid: session.uid,
      nick: session.nick,
      node: this.cluster.nodes.id,
      user: session.user,
      host: session.host,
      realname: session.realname,
      account: session.account,
      away: session.away,
      since: session.connectedAt,
      modes: userModesOf(session),
      secure: session.conn.secure,
    };
  }

  /**
   * Claims the session's current nick network-wide at the end of registration. False when
   * another user (on any node) holds it. A session that closed meanwhile is removed again.
   */
  async claim(session: Session): Promise<boolean> {
    const result = await this.cluster.state.addUser(this.recordOf(session));
    if (!result.ok) return false;
    session.claimed = true;
    this.local.set(session.uid, session);
    // Every node's MONITOR hears of it (network-log.ts); one event per sign-on.
    this.toNetwork({ v: 1, origin: this.cluster.nodes.id, kind: 'signon', uid: session.uid, nick: session.nick, source: session.prefix });
    if (session.state === 'closing') this.remove(session);
    return true;
  }

  /**
   * Atomic rename of a registered session's nick network-wide (the caller changes it locally on
   * ok), announced to its rooms' logs so other nodes' copies follow.
   */
  async rename(session: Session, nick: string): Promise<NickResult> {
    const announce: ClusterEvent = { v: 1, origin: this.cluster.nodes.id, kind: 'nick', uid: session.uid, source: session.prefix, nick };
    const given = this.givenUp(session);
    const result = await this.cluster.state.renameUser(session.uid, nick, session.rooms.size > 0 ? announce : undefined);
    // MONITOR and WHOWAS on every node (network-log.ts): the old nick is gone, the new one here.
    if (result.ok) {
      const source = `${nick}!${session.user}@${session.host}`;
      this.toNetwork({ v: 1, origin: this.cluster.nodes.id, kind: 'renamed', uid: session.uid, nick: given.nick, to: nick, source, entry: given });
    }
    return result;
  }

  /**
   * Frees the session's nick network-wide once it has ended, with `announce` (its QUIT) in
   * each of its rooms' logs; no await for the caller. Resolves false when that did not happen
   * (never registered, or the shared state failed: logged; the record stays until this node
   * leaves or is reaped).
   */
  remove(session: Session, announce?: ClusterEvent): Promise<boolean> {
    if (!session.claimed || session.removal) return Promise.resolve(false);
    let removed = false;
    const signoff: ClusterEvent = { v: 1, origin: this.cluster.nodes.id, kind: 'signoff', uid: session.uid, nick: session.nick, entry: this.givenUp(session) };
    session.removal = this.cluster.state.removeUser(session.uid, announce).then(
      () => {
        removed = true;
        this.local.delete(session.uid);
        this.toNetwork(signoff);
      },
      (err: unknown) => {
        this.local.delete(session.uid);
        // A fenced node's users are reaped by a peer; nothing else to do here.
        if (!(err instanceof FencedError)) this.logger.warn('cluster: user not removed', { uid: session.uid, nick: session.nick, err });
      },
    );
    return session.removal.then(() => removed);
  }

  /**
   * Keeps the shared record's details in step (WHOIS and direct messages from other nodes read
   * them). Resolves once written (or failed: logged); callers await it only to reply after it.
   */
  update(session: Session, fields: Omit<UserFields, 'nick'>, before = session.prefix): Promise<void> {
    if (!session.claimed || session.removal) return Promise.resolve();
    // Other nodes' copies of its rooms follow (away-notify, account-notify there).
    const change = `${this.cluster.nodes.id}.${(this.changes++).toString(36)}`;
    const announce: ClusterEvent = { v: 1, origin: this.cluster.nodes.id, kind: 'user', uid: session.uid, fields: { ...fields }, change };
    const written = this.cluster.state.updateUser(session.uid, fields, session.rooms.size > 0 ? announce : undefined).then(
      () => {},
      (err: unknown) => {
        if (!(err instanceof FencedError)) this.logger.warn('cluster: user not updated', { uid: session.uid, err });
      },
    );
    // extended-monitor watchers on every node (network-log.ts), once registered (a SASL login
    // before registration is in the sign-on's record already).
    if (!session.registered) return written;
    const changed: DetailsEvent['fields'] = {};
    if ('away' in fields) changed.away = fields.away ?? null;
    if ('account' in fields) changed.account = fields.account ?? null;
    if (typeof fields.realname === 'string') changed.realname = fields.realname;
    if (typeof fields.host === 'string') changed.host = fields.host;
    if (Object.keys(changed).length === 0) return written;
    // `before`: a host change is shown from the prefix the watchers knew.
    this.toNetwork({ v: 1, origin: this.cluster.nodes.id, kind: 'details', uid: session.uid, nick: session.nick, source: before, account: session.account, fields: changed });
    return written;
  }

  /**
   * The session yielded `given` (its nick before) to a guest nick after Redis lost its data and
   * another user claimed it meanwhile (node-events.ts): MONITOR and WHOWAS on every node learn
   * it as from a NICK.
   */
  yielded(session: Session, given: GivenUpNick): void {
    this.toNetwork({ v: 1, origin: this.cluster.nodes.id, kind: 'renamed', uid: session.uid, nick: given.nick, to: session.nick, source: session.prefix, entry: given });
  }

  /** The session's nick as WHOWAS will show it once given up. */
  givenUp(session: Session): GivenUpNick {
    const { nick, user, host, realname, account } = session;
    return { nick, user, host, realname, account, server: this.serverName, at: Date.now() };
  }

  private toNetwork(event: ClusterEvent): void {
    publishToNetwork(this.cluster, this.logger, event);
  }

  /**
   * The shared record's modes after MODE +i/-i, OPER or -o (WHO, WHOIS and LUSERS on other
   * nodes read them). Not announced to the rooms: no copy of a room shows user modes.
   */
  updateModes(session: Session): void {
    if (!session.claimed || session.removal) return;
    this.cluster.state.updateUser(session.uid, { modes: userModesOf(session) }).catch((err: unknown) => {
      if (!(err instanceof FencedError)) this.logger.warn('cluster: user modes not updated', { uid: session.uid, err });
    });
  }

  /** A registered session of this node by uid. */
  localByUid(uid: string): Session | undefined {
    const session = this.local.get(uid);
    return session?.registered ? session : undefined;
  }

  /**
   * A user of another node by nick, or null. This node's own users are known locally, so a
   * record naming this node (a user whose removal is still under way) counts as absent.
   */
  async remoteByNick(nick: string): Promise<UserRecord | null> {
    // What no one can hold (empty, a room name, over any nick length) is not asked about: the
    // shared state refuses such names (ClusterInputError), and hostile input must cost nothing.
    if (!isValidNick(nick, MAX_NAME_LENGTH)) return null;
    const record = await this.cluster.state.userByNick(nick);
    return record && record.node !== this.cluster.nodes.id ? record : null;
  }
}
