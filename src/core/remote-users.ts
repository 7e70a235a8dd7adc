/**
 * Actions on users connected to other nodes, through those nodes' inboxes (bus.ts `send`):
 * KILL and NickServ GHOST/REGAIN end a session there (`kill`), INVITE hands the invited
 * user its INVITE line (`invite`), and WHOIS asks how long the user has been idle
 * (`idle-query`: only its node knows when it last spoke; publishing that on every line would
 * cost a shared-state write per message). The network shows as one server, so the target's node does
 * what a local command would and the asker's replies are the same.
 *
 * A `kill` comes from a node, not a client: whoever sent it checked the permission (the oper,
 * the account owner). Only nodes can write to an inbox, but the receiving node still checks
 * the event's shape, that the uid is one of its users, and cleans the reason before it goes
 * into a raw ERROR line.
 *
 * The sender waits for the outcome (`killed`, answered once the session's removal from the
 * shared state settled, so the nick is free network-wide), at most KILL_ANSWER_MS: a dead
 * node never answers, and its users are reaped within the lease's ttl anyway. A WHOIS waits
 * for `idle` at most IDLE_ANSWER_MS, then answers without 317.
 */
import { rememberInvitation } from './invite-list.js';
import { changeHost, isValidHost } from './host-change.js';
import type { ChghostEvent, ClusterEvent, IdleEvent, IdleQueryEvent, InviteEvent, KillEvent, KilledEvent } from '../cluster/events.js';
import type { UserRecord } from '../cluster/state.js';
import { FencedError } from '../cluster/nodes.js';
import { Outgoing } from './outgoing.js';
import type { Server } from './server.js';

/** How long a KILL or GHOST waits for the target's node (5 s: more than a Redis round trip under load, less than a client's patience). */
export const KILL_ANSWER_MS = 5000;
/** How long a WHOIS waits for the idle time from the user's node (a bus round trip is ~1 ms; a WHOIS should not hang on a dying node). */
export const IDLE_ANSWER_MS = 1000;
/** A reason from another node is cut to this (the ERROR line is written raw, without line fitting). */
const MAX_REASON = 400;

export type KillOutcome = KilledEvent['outcome'] | 'timeout';

export class RemoteUsers {
  /** Requests waiting for their answer, by request id: kills and idle queries. */
  private readonly waiting = new Map<string, (answer: unknown) => void>();
  private counter = 0;

  constructor(private readonly server: Server) {}

  /**
   * Ends `user`'s session on its node, with `reason` as its quit reason there (the node's
   * ERROR and its rooms' QUIT). Resolves 'done' once the session ended and its nick is free,
   * 'absent' if the node had no such user (it left meanwhile), 'timeout' without an answer.
   * Rejects when the event could not be sent.
   */
  kill(user: UserRecord, by: string, reason: string): Promise<KillOutcome> {
    const origin = this.server.cluster.nodes.id;
    return this.ask<KillOutcome>(user.node, KILL_ANSWER_MS, 'timeout', (request) => ({ v: 1, origin, kind: 'kill', uid: user.uid, by, reason, request }));
  }

  /**
   * When `user` (of another node) last spoke, ms since the epoch; null if its node did not
   * answer in time or no longer has it. Never rejects: WHOIS then goes without 317.
   */
  lastSpoke(user: UserRecord): Promise<number | null> {
    const origin = this.server.cluster.nodes.id;
    return this.ask<number | null>(user.node, IDLE_ANSWER_MS, null, (request) => ({ v: 1, origin, kind: 'idle-query', uid: user.uid, request })).catch(() => null);
  }

  /** Sends the event `build` makes for a new request id; resolves with its answer, or `timedOut` after `ms`. */
  private async ask<T>(node: string, ms: number, timedOut: T, build: (request: string) => ClusterEvent): Promise<T> {
    const request = `${this.server.cluster.nodes.id}.${(this.counter++).toString(36)}`;
    let timer: NodeJS.Timeout | undefined;
    const answer = new Promise<T>((resolve) => {
      this.waiting.set(request, resolve as (answer: unknown) => void);
      timer = setTimeout(() => this.settle(request, timedOut), ms);
      timer.unref();
    });
    try {
      await this.server.cluster.bus.send(node, build(request));
    } catch (err) {
      clearTimeout(timer);
      this.waiting.delete(request);
      throw err;
    }
    const outcome = await answer;
    clearTimeout(timer);
    return outcome;
  }

  /** A `kill` in this node's inbox: end the session if the user is ours, then answer. */
  applyKill(event: KillEvent): void {
    if (typeof event.uid !== 'string' || typeof event.reason !== 'string') return;
    const target = this.server.users.localByUid(event.uid);
    if (!target) {
      this.answer(event, 'absent');
      return;
    }
    const reason = cleanReason(event.reason);
    this.server.logger.info('KILL from another node', { origin: event.origin, by: String(event.by), nick: target.nick, address: target.conn.remoteAddress, reason });
    this.server.quit(target, reason);
    // A session already ending (it quit as the kill came) is still answered once it is gone.
    void Promise.resolve(target.removal).then(() => this.answer(event, 'done'));
  }

  /** A `chghost` in this node's inbox: the operator's node checked the permission and the host. */
  applyChghost(event: ChghostEvent): void {
    if (typeof event.uid !== 'string' || typeof event.host !== 'string' || !isValidHost(event.host)) return;
    const target = this.server.users.localByUid(event.uid);
    if (!target) return;
    this.server.logger.info('CHGHOST from another node', { origin: event.origin, by: String(event.by), nick: target.nick, host: event.host });
    changeHost(this.server, target, event.host);
  }

  /** The answer to one of this node's kills. */
  applyKilled(event: KilledEvent): void {
    if (event.outcome !== 'done' && event.outcome !== 'absent') return;
    this.settle(event.request, event.outcome);
  }

  /** An `idle-query` in this node's inbox: when the user last spoke, if it is ours. */
  applyIdleQuery(event: IdleQueryEvent): void {
    if (typeof event.request !== 'string' || typeof event.uid !== 'string') return;
    const { cluster } = this.server;
    const spoke = this.server.users.localByUid(event.uid)?.lastSpoke ?? null;
    const answer: IdleEvent = { v: 1, origin: cluster.nodes.id, kind: 'idle', request: event.request, uid: event.uid, spoke };
    cluster.bus.send(event.origin, answer).catch((err: unknown) => {
      if (!(err instanceof FencedError)) this.server.logger.warn('cluster: idle query not answered', { origin: event.origin, uid: event.uid, err });
    });
  }

  /** The answer to one of this node's idle queries. */
  applyIdle(event: IdleEvent): void {
    const spoke = typeof event.spoke === 'number' && Number.isFinite(event.spoke) ? event.spoke : null;
    this.settle(event.request, spoke);
  }

  /** An `invite` in this node's inbox: the invited user, if still here, gets the INVITE line. */
  deliverInvite(event: InviteEvent, time: number): void {
    if (typeof event.uid !== 'string' || typeof event.by !== 'string' || typeof event.room !== 'string') return;
    const target = this.server.users.localByUid(event.uid);
    if (!target) return;
    rememberInvitation(target, event.room);
    const tags: Record<string, string> = { time: new Date(time).toISOString() };
    if (typeof event.account === 'string') tags.account = event.account;
    target.deliver(new Outgoing({ tags, source: event.by, command: 'INVITE', params: [target.nick, event.room] }));
  }

  private settle(request: unknown, answer: unknown): void {
    if (typeof request !== 'string') return;
    const resolve = this.waiting.get(request);
    if (!resolve) return;
    this.waiting.delete(request);
    resolve(answer);
  }

  private answer(event: KillEvent, outcome: KilledEvent['outcome']): void {
    if (typeof event.request !== 'string') return;
    const { cluster } = this.server;
    const answer: KilledEvent = { v: 1, origin: cluster.nodes.id, kind: 'killed', request: event.request, uid: event.uid, outcome };
    cluster.bus.send(event.origin, answer).catch((err: unknown) => {
      if (!(err instanceof FencedError)) this.server.logger.warn('cluster: kill not answered', { origin: event.origin, uid: event.uid, err });
    });
  }
}

/** One line of printable text: no CR, LF or NUL can reach the raw ERROR line. */
function cleanReason(reason: string): string {
  // eslint-disable-next-line no-control-regex
  return reason.replace(/[\r\n\0]/g, ' ').slice(0, MAX_REASON);
}
