/**
 * limits.max_connections_per_address for the whole network: each holder (a session) takes one
 * share of its address in the shared counts (cluster/state.ts `addConnection`, kept per node so
 * a dead node's shares go when it is reaped) and gives it back when it ends. The decision is
 * asynchronous (a Redis round trip), so it cannot be made at accept: the caller lets the
 * holder wait for it (core/network-admission.ts) while the synchronous per-node limits
 * (address-limits.ts) have already been checked at accept.
 *
 * A flood of connections must not turn the round trip into a stall or a queue: at most
 * `maxPending` asks are in flight; past that, and when the shared state fails, a holder is let
 * in on the per-node check alone without a share (fail open: the network-wide count is the
 * extra, the per-node limits still hold). Counted in `bypassed`.
 */

/** The part of SharedState this needs (cluster/state.ts). */
export interface ConnectionCounts {
  addConnection(address: string, limit?: number): Promise<{ ok: boolean; count: number }>;
  removeConnection(address: string): Promise<number>;
}

export interface NetworkConnectionOptions {
  /** Connections at once per address, network-wide (limits.max_connections_per_address). */
  limit: number;
  /** Asks in flight at once, at most. @default 256 */
  maxPending?: number;
  /** The shared state failed (not a refusal); the holder was let in without a share. */
  onError?: (err: unknown) => void;
}

interface Share {
  readonly key: string;
  /** `held` once the shared count has this share; `pending` while asked. */
  state: 'pending' | 'held';
  /** The holder ended while its ask was in flight: give the share back when it comes. */
  ended: boolean;
}

export class NetworkConnectionLimits<H extends object> {
  private readonly shares = new Map<H, Share>();
  private readonly maxPending: number;
  private inFlight = 0;
  /** Holders let in without asking (too many asks in flight) or after the shared state failed. */
  bypassed = 0;

  constructor(
    private readonly counts: ConnectionCounts,
    private readonly options: NetworkConnectionOptions,
  ) {
    this.maxPending = options.maxPending ?? 256;
  }

  /** Asks in flight now. */
  get pending(): number {
    return this.inFlight;
  }

  /** Shares held or asked for now (bounded by the holders alive). */
  get size(): number {
    return this.shares.size;
  }

  /**
   * One share of `key` (an address key, cidr.ts `addressKey`) for `holder`: true when it may
   * stay (the share is held until `give`, or it was let in without one), false when the
   * network already has `limit` connections from that address.
   */
  take(holder: H, key: string): Promise<boolean> {
    if (this.shares.has(holder)) return Promise.resolve(true);
    if (this.inFlight >= this.maxPending) {
      this.bypassed++;
      return Promise.resolve(true);
    }
    const share: Share = { key, state: 'pending', ended: false };
    this.shares.set(holder, share);
    this.inFlight++;
    return this.counts.addConnection(key, this.options.limit).then(
      ({ ok }) => {
        this.inFlight--;
        if (!ok || share.ended) {
          this.shares.delete(holder);
          if (ok) this.giveBack(key);
          return ok;
        }
        share.state = 'held';
        return true;
      },
      (err: unknown) => {
        this.inFlight--;
        this.shares.delete(holder);
        this.bypassed++;
        this.options.onError?.(err);
        return true;
      },
    );
  }

  /** `holder` ended: its share, held or still asked for, goes back. No await for the caller. */
  give(holder: H): void {
    const share = this.shares.get(holder);
    if (!share) return;
    if (share.state === 'pending') {
      share.ended = true;
      return;
    }
    this.shares.delete(holder);
    this.giveBack(share.key);
  }

  /**
   * The shared counts were lost (Redis came back empty, NodeEvent `reconnected` with `lost`):
   * every share held is counted again, without the limit (the connections are there). Asks
   * still in flight were made to the empty state and count there already.
   */
  reannounce(): void {
    for (const share of this.shares.values()) {
      if (share.state !== 'held') continue;
      this.counts.addConnection(share.key).catch((err: unknown) => this.options.onError?.(err));
    }
  }

  private giveBack(key: string): void {
    this.counts.removeConnection(key).catch((err: unknown) => this.options.onError?.(err));
  }
}
