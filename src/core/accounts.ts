import { hashPassword, verifyPassword } from '../auth/password.js';
import { deriveScramCredentials } from '../auth/scram.js';
import type { Config } from '../config/schema.js';
import { LoginThrottle, type LoginAttempt, type LoginFailure } from './login-throttle.js';
import { foldCase, isValidNick } from '../protocol/index.js';
import * as N from '../protocol/numerics.js';
import type { AccountRecord, ScramCredentials, Store } from '../store/store.js';
import type { Server } from './server.js';
import type { Session } from './session.js';

export type RegisterResult = { ok: true; account: AccountRecord } | { ok: false; code: 'ACCOUNT_EXISTS' | 'WEAK_PASSWORD' | 'BAD_ACCOUNT_NAME' };

export type { LoginAttempt, LoginFailure } from './login-throttle.js';

/**
 * Accounts: creating them, checking passwords (throttled per account and per address), and who
 * is logged in where. Storage is behind the Store interface; hashing is in auth/.
 */
export class Accounts {
  /** Sessions logged in to each account (folded name): one account, many devices. */
  readonly sessionsByAccount = new Map<string, Set<Session>>();
  private readonly throttle: LoginThrottle;

  constructor(
    private readonly store: Store,
    private readonly config: Config['accounts'],
    now: () => number = Date.now,
  ) {
    this.throttle = new LoginThrottle(config, now);
  }

  get(name: string): Promise<AccountRecord | null> {
    return this.store.accounts.get(foldCase(name));
  }

  /** Account names follow the nick grammar, so an account can always be used as a nick. */
  isValidName(name: string, nickLength: number): boolean {
    return isValidNick(name, nickLength) && !isServiceName(name);
  }

  async register(name: string, password: string, email: string | null, nickLength: number): Promise<RegisterResult> {
    if (!this.isValidName(name, nickLength)) return { ok: false, code: 'BAD_ACCOUNT_NAME' };
    if (password.length < this.config.password_min_length) return { ok: false, code: 'WEAK_PASSWORD' };
    const account: AccountRecord = {
      name,
      key: foldCase(name),
      ...(await this.credentials(password)),
      email,
      createdAt: Date.now(),
    };
    const created = await this.store.accounts.create(account);
    return created ? { ok: true, account } : { ok: false, code: 'ACCOUNT_EXISTS' };
  }

  async setPassword(name: string, password: string): Promise<boolean> {
    const { passwordHash, scram } = await this.credentials(password);
    return this.store.accounts.setPassword(foldCase(name), passwordHash, scram);
  }

  async credentials(password: string): Promise<{ passwordHash: string; scram: ScramCredentials }> {
    const passwordHash = await hashPassword(password, { N: 2 ** this.config.scrypt_log_n });
    return { passwordHash, scram: deriveScramCredentials(password, this.config.scram_iterations) };
  }

  /** Check a password. The attempt counts against the account and the address until it succeeds. */
  async checkPassword(name: string, password: string, address: string): Promise<AccountRecord | LoginFailure> {
    const attempt = this.beginLogin(name, address);
    if ('reason' in attempt) return attempt;
    const account = await this.get(name);
    // Unknown accounts cost the same hashing work, so timing does not tell which exist.
    const ok = account
      ? await verifyPassword(password, account.passwordHash)
      : await hashPassword(password, { N: 2 ** this.config.scrypt_log_n }).then(() => false);
    if (account && ok) {
      attempt.succeeded();
      return account;
    }
    return { reason: 'invalid' };
  }

  /**
   * Start a login at `name` (an account, or `oper:<name>`) from `address`: a throttle refusal, or
   * an attempt that counts as failed unless its `succeeded()` is called (login-throttle.ts). Call
   * it before any slow check, so attempts in flight count.
   */
  beginLogin(name: string, address: string): LoginAttempt | LoginFailure {
    return this.throttle.begin(foldCase(name), address);
  }

  /**
   * Log `session` in: 900 to it, ACCOUNT to those who share a room and asked (account-notify).
   * A session logged in already (SASL re-authentication) moves to the new account; to the same
   * one, only 900 again. Returns whether the account changed.
   */
  login(server: Server, session: Session, account: AccountRecord): boolean {
    if (session.accountKey === account.key) {
      session.numeric(N.RPL_LOGGEDIN, session.prefix, account.name, `You are now logged in as ${account.name}`);
      return false;
    }
    this.forget(session);
    session.account = account.name;
    session.accountKey = account.key;
    let sessions = this.sessionsByAccount.get(account.key);
    if (!sessions) this.sessionsByAccount.set(account.key, (sessions = new Set()));
    sessions.add(session);
    if (session.protectedNick?.key === account.key) session.protectedNick = null;
    server.users.update(session, { account: account.name });
    const prefix = session.nickKey ? session.prefix : `*!${session.user || '*'}@${session.host}`;
    session.numeric(N.RPL_LOGGEDIN, prefix, account.name, `You are now logged in as ${account.name}`);
    if (session.registered) {
      const out = server.event(session.prefix, 'ACCOUNT', [account.name]);
      for (const member of server.audienceOf(session)) member.deliverIf('account-notify', out);
    }
    return true;
  }

  /** Delete an account; every session logged in to it is logged out first. */
  async drop(server: Server, key: string): Promise<void> {
    for (const session of [...(this.sessionsByAccount.get(key) ?? [])]) this.logout(server, session);
    await this.store.accounts.delete(key);
    server.roomRegistry.forgetFounder(key);
  }

  logout(server: Server, session: Session): void {
    if (!session.account) return;
    this.forget(session);
    session.account = null;
    session.accountKey = null;
    server.users.update(session, { account: null });
    session.numeric(N.RPL_LOGGEDOUT, session.prefix, 'You are now logged out');
    const out = server.event(session.prefix, 'ACCOUNT', ['*']);
    for (const member of server.audienceOf(session)) member.deliverIf('account-notify', out);
  }

  /** Forget a session that ended or logged out. */
  forget(session: Session): void {
    if (!session.accountKey) return;
    const sessions = this.sessionsByAccount.get(session.accountKey);
    sessions?.delete(session);
    if (sessions?.size === 0) this.sessionsByAccount.delete(session.accountKey);
  }

  pruneThrottle(): void {
    this.throttle.prune();
  }
}

const SERVICE_NAMES = new Set(['nickserv', 'chanserv']);

/** Service nicks are reserved: nobody may take them as a nick or an account. */
export function isServiceName(name: string): boolean {
  return SERVICE_NAMES.has(foldCase(name));
}
