import type { Config } from '../config/schema.js';
import { FailureThrottle } from '../limits/failure-throttle.js';

/** Why a login attempt was refused; the throttle case carries how long to wait. */
export type LoginFailure = { reason: 'invalid' } | { reason: 'throttled'; retryAfterMs: number };

/** A login attempt that passed the throttle. It counts as a failure unless `succeeded` is called. */
export interface LoginAttempt {
  succeeded(): void;
}

/** Addresses remembered per account, and accounts remembered at all: memory stays bounded. */
const KNOWN_ADDRESSES_PER_ACCOUNT = 8;
const KNOWN_ACCOUNTS = 50_000;

/**
 * The failed-login throttle for every way of proving a password (SASL PLAIN and SCRAM, NickServ,
 * PASS, OPER). Three rules, in docs/security.md:
 *
 * - An attempt counts from the moment it starts, before the slow hash is checked, and is taken
 *   back only if it succeeds. So parallel guesses cannot all slip in before the first failure is
 *   recorded: the limit holds however many arrive at once.
 * - Failures count per account (key) and per client address.
 * - An address that has logged in to an account before is throttled for that account on its own
 *   (key + address) instead of sharing the account's count. Guesses from elsewhere then lock out
 *   the guessers, not the owner on a device that has signed in before.
 */
export class LoginThrottle {
  private readonly accountFailures: FailureThrottle;
  private readonly addressFailures: FailureThrottle;
  /** Account key -> addresses that logged in to it, most recent last; oldest accounts evicted first. */
  private readonly knownAddresses = new Map<string, string[]>();

  constructor(config: Config['accounts'], now: () => number = Date.now) {
    const windowMs = config.failed_login_window_seconds * 1000;
    this.accountFailures = new FailureThrottle(config.max_failed_logins, windowMs, now);
    this.addressFailures = new FailureThrottle(config.max_failed_logins_per_address, windowMs, now);
  }

  /** Start an attempt at `key` (a folded account name, or `oper:<name>`) from `address`, or refuse it. */
  begin(key: string, address: string): LoginAttempt | LoginFailure {
    const known = this.knownAddresses.get(key)?.includes(address) ?? false;
    const accountKey = known ? `${key} ${address}` : key;
    const wait = Math.max(this.accountFailures.retryAfter(accountKey), this.addressFailures.retryAfter(address));
    if (wait > 0) return { reason: 'throttled', retryAfterMs: wait };
    const accountTime = this.accountFailures.recordFailure(accountKey);
    const addressTime = this.addressFailures.recordFailure(address);
    return {
      succeeded: () => {
        this.accountFailures.forgive(accountKey, accountTime);
        this.addressFailures.forgive(address, addressTime);
        // The owner's own typos from this address are forgiven; other addresses' are not.
        if (known) this.accountFailures.reset(accountKey);
        this.remember(key, address);
      },
    };
  }

  prune(): void {
    this.accountFailures.prune();
    this.addressFailures.prune();
  }

  private remember(key: string, address: string): void {
    const addresses = (this.knownAddresses.get(key) ?? []).filter((a) => a !== address);
    addresses.push(address);
    if (addresses.length > KNOWN_ADDRESSES_PER_ACCOUNT) addresses.shift();
    // Re-inserting moves the account to the end, so eviction drops the least recently used.
    this.knownAddresses.delete(key);
    this.knownAddresses.set(key, addresses);
    if (this.knownAddresses.size > KNOWN_ACCOUNTS) this.knownAddresses.delete(this.knownAddresses.keys().next().value!);
  }
}
