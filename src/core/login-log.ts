import { KeyedRateLimiter } from '../limits/token-bucket.js';
import type { Logger } from '../observability/logger.js';
import type { ServerMetrics } from '../observability/metrics.js';
import type { LoginFailure } from './login-throttle.js';
import type { Session } from './session.js';

/** How a password was proved; the `mechanism` of the log lines and metrics. */
export type LoginMechanism = 'plain' | 'scram-sha-256' | 'pass' | 'nickserv' | 'oper' | 'http-basic';

/** `login failed` lines per address: a burst of this many, then one per this many seconds. */
const FAILURE_LINES_BURST = 5;
const FAILURE_LINE_EVERY_SECONDS = 12;
/** Past this many addresses remembered, the refilled ones are forgotten. */
const PRUNE_AT = 10_000;

/**
 * The outcome of every password check, for the log and the metrics: `login succeeded` (info),
 * `login failed` (warn, at most a few lines per address a minute: a guessing loop from one
 * address cannot fill the log; the metrics count every failure). Never the password.
 */
export class LoginLog {
  private readonly failureLines: KeyedRateLimiter;

  constructor(
    private readonly logger: Logger,
    private readonly metrics: ServerMetrics,
    now: () => number = Date.now,
  ) {
    this.failureLines = new KeyedRateLimiter(FAILURE_LINES_BURST, 1 / FAILURE_LINE_EVERY_SECONDS, now);
  }

  succeeded(session: Session, mechanism: LoginMechanism, account: string): void {
    this.metrics.loginSucceeded(mechanism);
    this.logger.info('login succeeded', { session: session.id, mechanism, account, address: session.host });
  }

  /** `account`: the name tried (an account, or an operator name for `oper`). */
  failed(session: Session, mechanism: LoginMechanism, account: string, failure: LoginFailure): void {
    this.failedFrom(session.host, { session: session.id }, mechanism, account, failure);
  }

  /**
   * A password check outside any IRC session (HTTP Basic on uploads): the same log line and
   * metrics, by address. Successes are not logged per request (a client uploading many files
   * would fill the log); the metrics count them.
   */
  httpSucceeded(): void {
    this.metrics.loginSucceeded('http-basic');
  }

  httpFailed(address: string, account: string, failure: LoginFailure): void {
    this.failedFrom(address, {}, 'http-basic', account, failure);
  }

  private failedFrom(address: string, fields: Record<string, unknown>, mechanism: LoginMechanism, account: string, failure: LoginFailure): void {
    const throttled = failure.reason === 'throttled';
    this.metrics.loginFailed(mechanism, throttled);
    if (this.failureLines.size > PRUNE_AT) this.failureLines.prune();
    if (!this.failureLines.take(address)) return;
    this.logger.warn('login failed', { ...fields, mechanism, account, address, reason: failure.reason });
  }
}
