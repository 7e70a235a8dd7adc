import { AuthenticateAssembler, parsePlain, SASL_MECHANISMS, ScramServer, splitAuthenticate } from '../../auth/index.js';
import * as N from '../../protocol/numerics.js';
import type { AccountRecord } from '../../store/store.js';
import type { LoginAttempt, LoginFailure } from '../accounts.js';
import type { Server } from '../server.js';
import type { Session } from '../session.js';
import type { CommandContext } from './context.js';
import { recheckNick } from './registration.js';

/** One AUTHENTICATE exchange (IRCv3 sasl-3.1/3.2). */
export interface SaslExchange {
  mechanism: 'PLAIN' | 'SCRAM-SHA-256';
  assembler: AuthenticateAssembler;
  scram: ScramServer | null;
  /** SCRAM: the throttled attempt, begun once the client names its account (client-first). */
  attempt: LoginAttempt | null;
  /** SCRAM: set if the throttle refused that account or address. */
  refused: LoginFailure | null;
  /** SCRAM: the account the client named (for the log). */
  account: string | null;
}

// AUTHENTICATE <mechanism> | AUTHENTICATE <base64 chunk> | AUTHENTICATE *
export async function AUTHENTICATE({ server, session, params }: CommandContext): Promise<void> {
  const arg = params[0]!;
  if (arg === '*') {
    if (session.sasl) {
      session.sasl = null;
      session.numeric(N.ERR_SASLABORTED, 'SASL authentication aborted');
    }
    return;
  }
  // Logged in already: a new exchange re-authenticates (IRCv3 sasl-3.2); the account stays
  // until one succeeds.
  if (!session.sasl) {
    // One account for all of a user's connections (multiclient.ts): none may move it alone.
    if (session.registered && session.attached !== null) {
      fail(session, 'SASL re-authentication is not possible while you are connected more than once');
      return;
    }
    startExchange(server, session, arg.toUpperCase());
    return;
  }
  const exchange = session.sasl;
  const assembled = exchange.assembler.push(arg);
  if ('error' in assembled) {
    session.sasl = null;
    if (assembled.error === 'too-long') session.numeric(N.ERR_SASLTOOLONG, 'SASL message too long');
    else fail(session, 'SASL authentication failed: invalid base64');
    return;
  }
  if (!assembled.done) return;
  exchange.assembler = new AuthenticateAssembler();
  if (exchange.mechanism === 'PLAIN') await finishPlain(server, session, assembled.payload);
  else await stepScram(server, session, exchange, assembled.payload);
}

function startExchange(server: Server, session: Session, mechanism: string): void {
  if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
    session.numeric(N.RPL_SASLMECHS, SASL_MECHANISMS.join(','), 'are available SASL mechanisms');
    fail(session, 'SASL authentication failed');
    return;
  }
  const exchange: SaslExchange = { mechanism: mechanism as SaslExchange['mechanism'], assembler: new AuthenticateAssembler(), scram: null, attempt: null, refused: null, account: null };
  if (mechanism === 'SCRAM-SHA-256') {
    // The throttle is checked, and the attempt counted, for the account the client names, before
    // its proof is checked: SCRAM guesses count against their target like PLAIN ones.
    exchange.scram = new ScramServer(
      async (username) => {
        exchange.account = username;
        const attempt = server.accounts.beginLogin(username, session.host);
        if ('reason' in attempt) {
          server.logins.failed(session, 'scram-sha-256', username, attempt);
          exchange.refused = attempt;
          throw new ThrottledError();
        }
        exchange.attempt = attempt;
        return (await server.accounts.get(username))?.scram ?? null;
      },
      { fakeIterations: server.config.accounts.scram_iterations },
    );
  }
  session.sasl = exchange;
  session.sendMessage({ command: 'AUTHENTICATE', params: ['+'] });
}

async function finishPlain(server: Server, session: Session, payload: Buffer): Promise<void> {
  session.sasl = null;
  const credentials = parsePlain(payload);
  // An authorization identity other than the account itself would mean acting as someone else.
  if (!credentials || (credentials.authzid !== '' && credentials.authzid !== credentials.authcid)) {
    fail(session, 'SASL authentication failed');
    return;
  }
  const result = await server.accounts.checkPassword(credentials.authcid, credentials.password, session.host);
  if ('reason' in result) {
    server.logins.failed(session, 'plain', credentials.authcid, result);
    failLogin(session, result);
    return;
  }
  server.logins.succeeded(session, 'plain', result.name);
  succeed(server, session, result);
}

/** Raised from the SCRAM lookup when the throttle refuses; ends the exchange with the wait time. */
class ThrottledError extends Error {}

async function stepScram(server: Server, session: Session, exchange: SaslExchange, payload: Buffer): Promise<void> {
  let result;
  try {
    result = await exchange.scram!.step(payload.toString('utf8'));
  } catch (err) {
    if (!(err instanceof ThrottledError)) throw err;
    session.sasl = null;
    failLogin(session, exchange.refused!);
    return;
  }
  if (result.error) {
    // A failed exchange leaves its attempt counted (and so does one the client abandons).
    session.sasl = null;
    if (exchange.attempt) server.logins.failed(session, 'scram-sha-256', exchange.account!, { reason: 'invalid' });
    fail(session, 'SASL authentication failed');
    return;
  }
  if (result.reply !== undefined) {
    for (const chunk of splitAuthenticate(Buffer.from(result.reply).toString('base64'))) {
      session.sendMessage({ command: 'AUTHENTICATE', params: [chunk] });
    }
    return;
  }
  session.sasl = null;
  const account = await server.accounts.get(result.done!.authcid);
  if (!account) {
    fail(session, 'SASL authentication failed');
    return;
  }
  exchange.attempt?.succeeded();
  server.logins.succeeded(session, 'scram-sha-256', account.name);
  succeed(server, session, account);
}

function succeed(server: Server, session: Session, account: AccountRecord): void {
  if (session.state === 'closing') return;
  const changed = server.accounts.login(server, session, account);
  session.numeric(N.RPL_SASLSUCCESS, 'SASL authentication successful');
  // Re-authenticated to another account while holding a nick registered to the old one.
  if (changed && session.registered) {
    recheckNick(server, session).catch((err: unknown) => server.logger.error('nick protection after re-authentication failed', { session: session.id, err }));
  }
}

function failLogin(session: Session, failure: LoginFailure): void {
  if (failure.reason === 'throttled') {
    const seconds = Math.ceil(failure.retryAfterMs / 1000);
    fail(session, `SASL authentication failed: too many failed attempts, try again in ${seconds} seconds`);
  } else fail(session, 'SASL authentication failed');
}

function fail(session: Session, text: string): void {
  session.numeric(N.ERR_SASLFAIL, text);
}
