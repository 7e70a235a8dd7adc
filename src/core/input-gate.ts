import { BATCH_LINE_COST } from './multiline-input.js';
import { TokenBucket } from '../limits/token-bucket.js';
import { DisconnectReason } from './errors.js';
import type { Server } from './server.js';
import type { Session } from './session.js';

/** Lines queued behind a command that waits on storage (or on output) before reading pauses. */
const MAX_BACKLOG = 64;
/** How often a session whose unread output is over SendQ is looked at again. */
const OUTPUT_RETRY_MS = 50;

/**
 * When a session's next line runs (ergo's fakelag, inspircd's recvq): in order, one at a time,
 * and only while
 * - no earlier command is still running (an async handler: login, history),
 * - the client has read its earlier replies (unread output under SendQ; replies are not
 *   dropped for that, but a client that does not read gets no more until it does),
 * - its token bucket has a token (limits.command_burst, then limits.commands_per_second).
 * Other lines wait in the session's backlog. Reading pauses while the backlog waits on a
 * command or on output; a client over the rate keeps being read, and once more than
 * limits.recvq_bytes wait it is disconnected with "Excess flood". Exempt addresses have no
 * bucket. Nothing here affects other sessions; the connections of one user (multiclient.ts)
 * share the `busy` of their user.
 */
export class InputGate {
  constructor(
    private readonly server: Server,
    private readonly now: () => number,
  ) {}

  /** The token bucket for a new session; null when its address is exempt. */
  bucketFor(address: string): TokenBucket | null {
    if (this.server.addressLimits.isExempt(address)) return null;
    const { command_burst, commands_per_second } = this.server.config.limits;
    return new TokenBucket(command_burst, commands_per_second, this.now);
  }

  /** A complete line arrived (Session.handleLine): run it now or queue it. */
  receive(session: Session, line: Buffer): void {
    if (session.backlog.length === 0 && this.mayRun(session, line)) {
      session.processLine(line);
      return;
    }
    // Copy: `line` is a view into the read buffer, which must not be kept alive.
    session.backlog.push(Buffer.from(line));
    session.backlogBytes += line.length + 2;
    if (session.throttle && session.backlogBytes > this.server.config.limits.recvq_bytes) {
      this.server.metrics.floodDisconnect();
      this.server.logger.info('excess flood', { session: session.id, nick: session.nick, address: session.conn.remoteAddress });
      // quit, not drop: the ERROR line gets out before the close; the rest of the flood is ignored.
      this.server.disconnect(session, DisconnectReason.ExcessFlood);
      return;
    }
    if (session.backlog.length >= MAX_BACKLOG && (isBusy(session) || this.outputBlocked(session))) session.conn.pauseReading();
  }

  /** Run what may run now: after a command finished, when a token is due, or output drained. */
  drain(session: Session): void {
    while (session.backlog.length > 0 && session.state !== 'closing' && this.mayRun(session, session.backlog[0]!)) {
      const line = session.backlog.shift()!;
      session.backlogBytes -= line.length + 2;
      session.processLine(line);
    }
    if (isBusy(session) || session.state === 'closing') return; // the command's end drains again
    // Reading stays paused until the client has read its replies; look again until then.
    if (this.outputBlocked(session)) this.retryIn(session, OUTPUT_RETRY_MS);
    else session.conn.resumeReading();
  }

  /** May the session's next line run now? Takes a token if so; else arranges to look again. */
  private mayRun(session: Session, line: Buffer): boolean {
    if (isBusy(session)) return false; // the command's end drains
    if (this.outputBlocked(session)) {
      session.conn.pauseReading();
      this.retryIn(session, OUTPUT_RETRY_MS);
      return false;
    }
    // A line inside an open multiline batch (it starts with its `@batch=` tag) costs a fraction.
    const cost = session.multiline !== null && line[0] === 0x40 ? BATCH_LINE_COST : 1;
    if (!session.throttle || session.throttle.take(cost)) return true;
    this.retryIn(session, session.throttle.msUntilNext());
    return false;
  }

  private outputBlocked(session: Session): boolean {
    return session.conn.queuedBytes > this.server.config.limits.sendq_bytes;
  }

  /** One timer per waiting session; it finds the session gone if it closed meanwhile. */
  private retryIn(session: Session, ms: number): void {
    if (session.drainTimer !== null) return;
    session.drainTimer = setTimeout(() => {
      session.drainTimer = null;
      this.drain(session);
    }, Math.max(1, ms));
    session.drainTimer.unref();
  }
}

/** A command of the session's user runs: on any of its connections (multiclient.ts), the next waits. */
function isBusy(session: Session): boolean {
  return (session.principal ?? session).busy;
}
