/**
 * Errors that know who reads them: an IrcError carries the exact numeric or FAIL reply, and the
 * dispatcher sends it. Any other exception is internal: logged, answered generically.
 */
export class IrcError extends Error {
  /** `numeric` params exclude the leading target nick, which the sender fills in. */
  constructor(
    readonly kind: 'numeric' | 'fail',
    readonly code: string,
    readonly params: string[],
  ) {
    super(`${code} ${params.join(' ')}`);
  }
}

/** A numeric reply such as ERR_NOSUCHNICK: `numericError(ERR_NOSUCHNICK, nick, 'No such nick')`. */
export function numericError(code: string, ...params: string[]): IrcError {
  return new IrcError('numeric', code, params);
}

/** A standard reply: `FAIL <command> <code> [context...] :description`. */
export function failError(command: string, code: string, ...rest: string[]): IrcError {
  return new IrcError('fail', code, [command, code, ...rest]);
}

/** Named reasons a connection ends, so logs and tests can match them. */
export const DisconnectReason = {
  SendQExceeded: 'SendQ exceeded',
  PingTimeout: 'Ping timeout',
  RegistrationTimeout: 'Registration timed out',
  ServerShutdown: 'Server shutting down',
  ConnectionReset: 'Connection closed',
  BadPassword: 'Bad password',
  ExcessFlood: 'Excess flood',
  LineTimeout: 'Incomplete line timed out',
  KLined: 'K-Lined',
  DLined: 'D-Lined',
} as const;
