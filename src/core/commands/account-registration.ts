import { failError } from '../errors.js';
import { NICK_RULES } from '../../protocol/index.js';
import type { CommandContext } from './context.js';

// REGISTER <account> <email> <password>   (IRCv3 draft/account-registration)
// `*` as the account means the current nick; `*` as the email means none.
export async function REGISTER({ server, session, params }: CommandContext): Promise<void> {
  const [requested, email, password] = params as [string, string, string];
  if (!server.config.accounts.registration) {
    throw failError('REGISTER', 'TEMPORARILY_UNAVAILABLE', requested, 'Account registration is disabled');
  }
  if (session.account) throw failError('REGISTER', 'ALREADY_AUTHENTICATED', session.account, 'You are already logged in');
  const name = requested === '*' ? session.nick : requested;
  if (name === '*' || name === '') throw failError('REGISTER', 'NEED_NICK', '*', 'Send NICK before REGISTER');
  const address = session.conn.remoteAddress;
  const wait = server.addressLimits.takeRegistration(address);
  if (wait > 0) {
    const minutes = Math.ceil(wait / 60_000);
    throw failError('REGISTER', 'TEMPORARILY_UNAVAILABLE', name, `Too many accounts registered from your address; try again in ${minutes} minutes`);
  }
  const result = await server.accounts.register(name, password, email === '*' ? null : email, server.config.limits.nick_length);
  if (!result.ok) {
    server.addressLimits.refundRegistration(address);
    const text = {
      ACCOUNT_EXISTS: 'Account already exists',
      WEAK_PASSWORD: `Password too short: use at least ${server.config.accounts.password_min_length} characters`,
      BAD_ACCOUNT_NAME: `Account names follow the nickname rules: ${NICK_RULES}`,
    }[result.code];
    throw failError('REGISTER', result.code, name, text);
  }
  session.sendMessage({ source: server.name, command: 'REGISTER', params: ['SUCCESS', result.account.name, 'Account created'] });
  server.accounts.login(server, session, result.account);
}

// VERIFY <account> <code>: e-mail verification is off, so no code is ever pending.
export function VERIFY({ params }: CommandContext): void {
  throw failError('VERIFY', 'INVALID_CODE', params[0]!, 'No verification is pending for this account');
}
