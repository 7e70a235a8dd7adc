/**
 * The bus: per-room ordered, replayable delivery between nodes, and a per-node inbox.
 *
 * Every room has one log; publishing runs one sequencer step (Redis: publish.lua, lib.lua
 * `sequence`) that gives the event the room's next sequence number (1, 2, 3... no holes), a
 * time strictly above the room's previous one, and a network-unique msgid that sorts by time;
 * it appends the event to the room's capped stream and wakes the followers with a small notice
 * (sequence and epoch; Redis PUBLISH). Followers read the stream from their own position, so
 * a node that missed notices (its subscriber connection dropped, it was busy) catches up
 * exactly. Each node also has an inbox log, fed by `send`, for direct messages and control
 * events; a node always follows its own inbox.
 *
 * Contract (test/contract/cluster-bus.contract.ts checks both implementations):
 * - Order: for each log, the handler gets events in strictly increasing sequence, each at most
 *   once, and every follower of a log gets the same order. Times never go backwards within a
 *   log. Across logs there is no order.
 * - Loss: an event that `publish` resolved for reaches every node that followed its room from
 *   before it until after it, unless the stream dropped it first (capped at `maxLen`, about);
 *   then the follower gets a `gap` delivery for the sequences it cannot have, and the core
 *   reads them from history. A log that restarts (Redis lost it) is a `gap` with reason
 *   'restarted' and delivery goes on from the new epoch's start.
 * - Own events: a node's own events in rooms it follows are delivered to it too (`own: true`),
 *   in their place in the order, without reading them back from Redis; in rooms it does not
 *   follow only the promise tells. So the core delivers to its local members from the handler
 *   for every origin and order is the same on every node.
 * - `publish` and `send` may await (one Redis round trip, pipelined on one connection); they
 *   are fenced by the lease (FencedError). A rejection other than FencedError is an unknown
 *   outcome: the event may still have been sequenced (and will then be delivered).
 * - The handler is called asynchronously, never inside `publish`; it must not throw (a throw
 *   is logged and the event counts as delivered).
 */
import type { ClusterEvent, Delivery, Stamp } from './events.js';

export interface BusOptions {
  /** Entries kept per log (MAXLEN ~, so a little more may stay). @default 10000 */
  maxLen?: number;
  /** Entries read per catch-up request. @default 500 */
  readBatch?: number;
}

export const BUS_DEFAULTS: Required<BusOptions> = { maxLen: 10_000, readBatch: 500 };

export interface Bus {
  /** The one handler for deliveries (replaces any earlier one). */
  onDelivery(handler: (delivery: Delivery) => void): void;
  /** Sequences an event into a room's log. */
  publish(room: string, event: ClusterEvent): Promise<Stamp>;
  /** Sequences an event into a node's inbox (direct messages, kill, forced nick). */
  send(node: string, event: ClusterEvent): Promise<Stamp>;
  /**
   * Start following a room (a local user joined it). Without `after`, delivery starts after
   * the log's current end; with `after` (a sequence this node had, e.g. a join's stamp minus
   * one, or a position before it stopped following), everything after it is delivered first.
   * Resolves with the position delivery starts from, once notices are subscribed, so nothing
   * published after the promise resolves can be missed. Following a followed room changes
   * nothing and resolves with its current position.
   */
  follow(room: string, after?: number): Promise<number>;
  /** Stop following (the last local member left); resolves with the last sequence delivered. */
  unfollow(room: string): Promise<number>;
  /** The last sequence delivered for a followed room, or undefined. No await. */
  position(room: string): number | undefined;
  /** Folded names of the rooms followed. */
  following(): string[];
  /**
   * How far delivery is behind what this node knows the followed logs (rooms and its inbox)
   * hold: per log, the known end (notices, own publishes, reads) minus the delivered position;
   * the largest and the sum. No await; walks the followed logs (for metrics at scrape time).
   */
  lag(): { max: number; total: number };
  /**
   * For a followed room: reads the log's end (retrying while the store of the log is not
   * reachable) and resolves true once delivery has reached it, false past `timeoutMs` or for
   * a room not followed. After a publish of unknown outcome, it tells whether the event was
   * sequenced: it was if it has been delivered (as an own event) by then.
   */
  caughtUp(room: string, timeoutMs: number): Promise<boolean>;
  /** Unsubscribes everything and stops; pending reads are dropped. */
  close(): Promise<void>;
}
