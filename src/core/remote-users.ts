/**
 * Actions on users connected to other nodes, through those nodes' inboxes (bus.ts `send`):
 * KILL and NickServ GHOST/REGAIN end a session there (`kill`), and INVITE hands the invited
 * user its INVITE line (`invite`). The network shows as one server, so the target's node does
 * what a local command would and the asker's replies are the same.
 *
 * A `kill` comes from a node, not a client: whoever sent it checked the permission (the oper,
 * the account owner). Only nodes can write to an inbox, but the receiving node still checks
 * the event's shape, that the uid is one of its users, and cleans the reason before it goes
 * into a raw ERROR line.
 *
 * The sender waits for the outcome (`killed`, answered once the session's removal from the
 * shared state settled, so the nick is free network-wide), at most KILL_ANSWER_MS: a dead
 * node never answers, and its users are reaped within the lease's ttl anyway.
 */
import type { InviteEvent, KillEvent, KilledEvent } from '../cluster/events.js';
import type { UserRecord } from '../cluster/state.js';
import { FencedError } from '../cluster/nodes.js';
import { Outgoing } from './outgoing.js';
import type { Server } from './server.js';

/** How long a KILL or GHOST waits for the target's node (5 s: more than a Redis round trip under load, less than a client's patience). */
export const KILL_ANSWER_MS = 5000;
/** A reason from another node is cut to this (the ERROR line is written raw, without line fitting). */
const MAX_REASON = 400;

export type KillOutcome = KilledEvent['outcome'] | 'timeout';

export class RemoteUsers {
  /** Kills waiting for their answer, by request id. */
  private readonly waiting = new Map<string, (outcome: KillOutcome) => void>();
  private counter = 0;

  constructor(private readonly server: Server) {}

  /**
   * Ends `user`'s session on its node, with `reason` as its quit reason there (the node's
   * ERROR and its rooms' QUIT). Resolves 'done' once the session ended and its nick is free,
   * 'absent' if the node had no such user (it left meanwhile), 'timeout' without an answer.
   * Rejects when the event could not be sent.
   */
  async kill(user: UserRecord, by: string, reason: string): Promise<KillOutcome> {
    const { cluster } = this.server;
    const request = `${cluster.nodes.id}.${(this.counter++).toString(36)}`;
    let timer: NodeJS.Timeout | undefined;
    const answer = new Promise<KillOutcome>((resolve) => {
      this.waiting.set(request, resolve);
      timer = setTimeout(() => this.settle(request, 'timeout'), KILL_ANSWER_MS);
      timer.unref();
    });
    const event: KillEvent = { v: 1, origin: cluster.nodes.id, kind: 'kill', uid: user.uid, by, reason, request };
    try {
      await cluster.bus.send(user.node, event);
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

  /** The answer to one of this node's kills. */
  applyKilled(event: KilledEvent): void {
    if (event.outcome !== 'done' && event.outcome !== 'absent') return;
    this.settle(event.request, event.outcome);
  }

  /** An `invite` in this node's inbox: the invited user, if still here, gets the INVITE line. */
  deliverInvite(event: InviteEvent, time: number): void {
    if (typeof event.uid !== 'string' || typeof event.by !== 'string' || typeof event.room !== 'string') return;
    const target = this.server.users.localByUid(event.uid);
    if (!target) return;
    const tags: Record<string, string> = { time: new Date(time).toISOString() };
    if (typeof event.account === 'string') tags.account = event.account;
    target.deliver(new Outgoing({ tags, source: event.by, command: 'INVITE', params: [target.nick, event.room] }));
  }

  private settle(request: unknown, outcome: KillOutcome): void {
    if (typeof request !== 'string') return;
    const resolve = this.waiting.get(request);
    if (!resolve) return;
    this.waiting.delete(request);
    resolve(outcome);
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
