/**
 * What the core, the transports and the HTTP listener count, as they see it: plain calls with
 * numbers, no metrics library. Passed in (Server options), never global; `prometheus.ts` is the
 * implementation app.ts makes, `noopMetrics` the default for tools and unit tests.
 *
 * Cost contract: the hot path calls these once per message or per broadcast, never once per
 * recipient (a room message counts its recipients with one `delivered(n)`). Implementations
 * must keep each call to a few plain additions: no label hashing, no allocation.
 */
export interface ServerMetrics {
  /** A connection was attached to a session (any transport). */
  connectionAccepted(): void;
  /** A connection was refused at admission (D-line, per-address limits). */
  connectionRefused(): void;
  /** A session ended. */
  connectionClosed(): void;
  /**
   * A line was dispatched as `command`: a name from the dispatch table, or `other` for one it
   * does not know. Callers pass only those, so the set of names stays bounded.
   */
  command(command: string): void;
  /** A command was answered with an error (numeric, FAIL, or an internal error); same names as `command`. */
  commandError(command: string): void;
  /** Bytes read from a client connection (after TLS, without WebSocket framing). */
  bytesIn(count: number): void;
  /** Bytes written to a client connection (the same measure). */
  bytesOut(count: number): void;
  /** A PRIVMSG, NOTICE or TAGMSG line arrived (once per line, whatever its targets). */
  messageIn(command: 'PRIVMSG' | 'NOTICE' | 'TAGMSG'): void;
  /** A message was relayed to one target (a room or a user), handed to `recipients` sessions. */
  relayed(recipients: number): void;
  /** A session was dropped for exceeding its SendQ. */
  sendqDrop(): void;
  /** A session was disconnected for flooding (Excess flood). */
  floodDisconnect(): void;
  /** A login by `mechanism` (plain, scram-sha-256, pass, nickserv, oper) succeeded. */
  loginSucceeded(mechanism: string): void;
  /** A login failed: a wrong password or unknown account, or (`throttled`) refused by the throttle unchecked. */
  loginFailed(mechanism: string, throttled: boolean): void;
  /** The history writer committed `messages` messages in `seconds` (failed commits included). */
  historyCommit(messages: number, seconds: number): void;
  /** A history query (`operation`: latest, before, after, around, between, targets) took `seconds`. */
  storeQuery(operation: string, seconds: number): void;
  /** An HTTP request to `route` (healthz, readyz, metrics, static) was answered with `status`. */
  httpRequest(route: string, status: number): void;
}

const nothing = (): void => {};

/** Counts nothing: for tools and tests that build a Server without app.ts. */
export const noopMetrics: ServerMetrics = {
  connectionAccepted: nothing,
  connectionRefused: nothing,
  connectionClosed: nothing,
  command: nothing,
  commandError: nothing,
  bytesIn: nothing,
  bytesOut: nothing,
  messageIn: nothing,
  relayed: nothing,
  sendqDrop: nothing,
  floodDisconnect: nothing,
  loginSucceeded: nothing,
  loginFailed: nothing,
  historyCommit: nothing,
  storeQuery: nothing,
  httpRequest: nothing,
};
