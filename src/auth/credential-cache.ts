import { createHmac, randomBytes } from 'node:crypto';

/**
 * Recently proved passwords, so that a client uploading many files is not hashed with scrypt
 * for each one (tens of milliseconds and 32 MiB each: a denial-of-service lever with a valid
 * password). Only successes are kept, under an HMAC with a key made at start, never the
 * password: a memory dump shows neither passwords nor hashes that could be attacked offline
 * without the key. The stored password hash is part of what is MACed, so a password change
 * (a new hash) makes the old entry unreachable at once.
 */
export class CredentialCache {
  private readonly key = randomBytes(32);
  /** MAC -> expiry; insertion order is expiry order (one TTL), so the oldest go first. */
  private readonly entries = new Map<string, number>();

  constructor(
    private readonly ttlMs = 5 * 60_000,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether `password` was proved for the account (key and current hash) within the TTL. */
  has(accountKey: string, passwordHash: string, password: string): boolean {
    const mac = this.mac(accountKey, passwordHash, password);
    const expires = this.entries.get(mac);
    if (expires === undefined) return false;
    if (expires > this.now()) return true;
    this.entries.delete(mac);
    return false;
  }

  /** Remember a successful check for the TTL (not extended by later hits). */
  add(accountKey: string, passwordHash: string, password: string): void {
    const mac = this.mac(accountKey, passwordHash, password);
    this.entries.delete(mac);
    this.entries.set(mac, this.now() + this.ttlMs);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  private mac(accountKey: string, passwordHash: string, password: string): string {
    // NUL separates the parts: none of them contains it (a password with NUL fails SASL PLAIN too).
    return createHmac('sha256', this.key).update(`${accountKey}\0${passwordHash}\0${password}`).digest('base64');
  }
}
