import { AddressSet, addressKey } from './cidr.js';
import { KeyedRateLimiter } from './token-bucket.js';

export interface AddressLimitsOptions {
  /** Open connections at once per address (an IPv6 /64 counts as one address). */
  maxConnections: number;
  /** New connections per address per minute (a bucket of this size refilled over a minute). */
  connectionsPerMinute: number;
  /** Account registrations per address per hour, likewise. */
  registrationsPerHour: number;
  /** Addresses and CIDR networks none of these limits apply to (nor flood control: isExempt). */
  exempt: readonly string[];
  /**
   * Loopback connections skip these limits too (not flood control), as in Ergo: on one host they
   * are the operator's own tools (`parley bench`, a bot), and a proxy on the host must use a
   * PROXY listener anyway, which gives the real address.
   */
  exemptLoopback: boolean;
}

const LOOPBACK = new AddressSet(['127.0.0.0/8', '::1/128', '::ffff:127.0.0.0/104']);

/** Why a connection was refused before it got a session; the text is sent in ERROR. */
export type ConnectionRefusal = typeof REFUSED_TOO_MANY | 'Connecting too fast; try again later';
/** Over max_connections_per_address, on this node or network-wide. */
export const REFUSED_TOO_MANY = 'Too many connections from your address';

/**
 * Per-address limits: concurrent connections, new connections per minute, account
 * registrations per hour. Memory is bounded by the addresses active within the windows
 * (`prune` forgets the rest). The clock is injected so tests control time.
 */
export class AddressLimits {
  private readonly exempt: AddressSet;
  private readonly open = new Map<string, number>();
  private readonly connectRate: KeyedRateLimiter;
  private readonly registrationRate: KeyedRateLimiter;

  constructor(
    private readonly options: AddressLimitsOptions,
    now: () => number = Date.now,
  ) {
    this.exempt = new AddressSet(options.exempt);
    this.connectRate = new KeyedRateLimiter(options.connectionsPerMinute, options.connectionsPerMinute / 60, now);
    this.registrationRate = new KeyedRateLimiter(options.registrationsPerHour, options.registrationsPerHour / 3600, now);
  }

  /** Exempt from everything per address, flood control included (limits.exempt_addresses). */
  isExempt(address: string): boolean {
    return this.exempt.has(address);
  }

  /** Not counted by the limits here: isExempt, or loopback when that is exempt. */
  private uncounted(address: string): boolean {
    return this.isExempt(address) || (this.options.exemptLoopback && LOOPBACK.has(address));
  }

  /**
   * The key `address` is counted under (an IPv6 /64 is one address), or null for an address
   * the limits skip (exempt, or loopback when that is exempt): the network-wide count
   * (network-connections.ts) uses the same keys and exemptions.
   */
  countedKey(address: string): string | null {
    return this.uncounted(address) ? null : addressKey(address);
  }

  /**
   * May `address` open one more connection? If so it is counted (call `closed` when it ends)
   * and null is returned; otherwise the refusal, and nothing is counted.
   */
  admit(address: string): ConnectionRefusal | null {
    if (this.uncounted(address)) return null;
    const key = addressKey(address);
    const open = this.open.get(key) ?? 0;
    if (open >= this.options.maxConnections) return REFUSED_TOO_MANY;
    // Refused attempts cost nothing, so a client retrying in a loop cannot lock itself out longer.
    if (!this.connectRate.take(key)) return 'Connecting too fast; try again later';
    this.open.set(key, open + 1);
    return null;
  }

  /** A connection `admit` counted has ended. */
  closed(address: string): void {
    if (this.uncounted(address)) return;
    const key = addressKey(address);
    const open = this.open.get(key) ?? 0;
    if (open <= 1) this.open.delete(key);
    else this.open.set(key, open - 1);
  }

  /** Connections now open from `address` (0 for exempt addresses, which are not counted). */
  openCount(address: string): number {
    return this.open.get(addressKey(address)) ?? 0;
  }

  /**
   * Take a registration for `address`: 0 if it may register an account now (and it is
   * counted), else the milliseconds until it may. Taken before the (slow, hashing) attempt so
   * parallel attempts cannot pass together; `refundRegistration` if the attempt failed.
   */
  takeRegistration(address: string): number {
    if (this.uncounted(address)) return 0;
    const key = addressKey(address);
    return this.registrationRate.take(key) ? 0 : Math.max(1, this.registrationRate.retryAfter(key));
  }

  /** The registration taken did not happen (name taken, weak password): it does not count. */
  refundRegistration(address: string): void {
    if (!this.uncounted(address)) this.registrationRate.refund(addressKey(address));
  }

  /** Forget addresses whose windows have passed. */
  prune(): void {
    this.connectRate.prune();
    this.registrationRate.prune();
  }
}
