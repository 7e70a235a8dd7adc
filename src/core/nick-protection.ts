import type { Config } from '../config/schema.js';
import { addressKey } from '../limits/cidr.js';
import type { Accounts } from './accounts.js';
import type { Session } from './session.js';

export type NickProtectionMode = Config['accounts']['nick_protection'];

/** How long an address that was renamed away from a registered nick may not take it again. */
export const RECLAIM_COOLDOWN_MS = 10 * 60_000;
/** Cool-downs remembered at most; the oldest go first (a rename loop from many addresses). */
const MAX_COOLDOWNS = 10_000;

/**
 * Registered nicks: a nick equal (casefolded) to an account name belongs to that account
 * (accounts.nick_protection).
 * - `strict` (the default, Ergo's nick-reservation `strict`): only a session logged in to the
 *   account is granted the nick; anyone else gets 433 "Nickname is reserved by a different
 *   account", at NICK after registration, or when registration completes (after SASL or PASS
 *   had their chance, see commands/registration.ts).
 * - `timeout`: anyone may take it, is warned, and renamed to a guest nick after
 *   accounts.nick_protection_seconds (Server.sweep). A session renamed away from a nick may not
 *   take it back until it logs in, and its address may not take it for RECLAIM_COOLDOWN_MS (by
 *   reconnecting), so the take-back loop is closed.
 * - `off`: no protection.
 * Services' nicks are refused as nicks in every mode (isServiceName).
 */
export class NickProtection {
  /** `<address key> <folded nick>` -> until when, oldest first (each set moves to the end). */
  private readonly cooldowns = new Map<string, number>();

  constructor(
    private readonly config: Config['accounts'],
    private readonly accounts: Accounts,
    private readonly now: () => number,
  ) {}

  get mode(): NickProtectionMode {
    return this.config.nick_protection;
  }

  /**
   * Is the folded nick `key` reserved against `session` (so it must not be granted)? Answers
   * at once when no lookup is needed: a session's own account, `off`, and `timeout` (which
   * needs only its own memory); in `strict` mode it asks the store (a promise). The nick
   * holder may have changed by the time a promise settles: callers check again.
   */
  isReserved(session: Session, key: string): boolean | Promise<boolean> {
    if (session.accountKey === key) return false;
    switch (this.mode) {
      case 'off':
        return false;
      case 'timeout':
        return this.inCooldown(session, key);
      case 'strict':
        return this.accounts.get(key).then(
          (account) => account !== null && session.accountKey !== key,
          // The store failing must not hand out registered nicks: refuse, the client may retry.
          () => true,
        );
    }
  }

  /** Timeout mode: `session` was renamed away from `key`; it and its address may not retake it. */
  renamedAway(session: Session, key: string): void {
    (session.lostNicks ??= new Set()).add(key);
    const entry = `${addressKey(session.conn.remoteAddress)} ${key}`;
    this.cooldowns.delete(entry);
    this.cooldowns.set(entry, this.now() + RECLAIM_COOLDOWN_MS);
    if (this.cooldowns.size > MAX_COOLDOWNS) this.cooldowns.delete(this.cooldowns.keys().next().value!);
  }

  /** Forget cool-downs that have passed (Server.sweep). Entries expire in insertion order. */
  prune(): void {
    const now = this.now();
    for (const [entry, until] of this.cooldowns) {
      if (until > now) break;
      this.cooldowns.delete(entry);
    }
  }

  /** How many cool-downs are remembered (tests, memory bound). */
  get cooldownCount(): number {
    return this.cooldowns.size;
  }

  private inCooldown(session: Session, key: string): boolean {
    if (session.lostNicks?.has(key)) return true;
    const until = this.cooldowns.get(`${addressKey(session.conn.remoteAddress)} ${key}`);
    return until !== undefined && until > this.now();
  }
}
