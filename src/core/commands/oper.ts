import { hashPassword, verifyPassword } from '../../auth/password.js';
import * as N from '../../protocol/numerics.js';
import { numericError } from '../errors.js';
import type { CommandContext } from './context.js';

// OPER <name> <password>: operators come from config, with scrypt-hashed passwords.
export async function OPER({ server, session, params }: CommandContext): Promise<void> {
  const [name, password] = params as [string, string];
  const attempt = server.accounts.beginLogin(`oper:${name}`, session.host);
  if ('reason' in attempt) {
    server.logins.failed(session, 'oper', name, attempt);
    throw numericError(N.ERR_PASSWDMISMATCH, 'Password incorrect');
  }
  const entry = server.config.opers.find((o) => o.name === name);
  // Spend the same hashing work for unknown names, so timing does not reveal which exist.
  const ok = entry
    ? await verifyPassword(password, entry.password_hash)
    : await hashPassword(password, { N: 2 ** server.config.accounts.scrypt_log_n }).then(() => false);
  if (!entry || !ok) {
    server.logins.failed(session, 'oper', name, { reason: 'invalid' });
    throw numericError(N.ERR_PASSWDMISMATCH, 'Password incorrect');
  }
  attempt.succeeded();
  if (!session.oper) server.counts.opers++;
  session.oper = entry.name;
  server.users.updateModes(session);
  server.metrics.loginSucceeded('oper');
  server.logger.info('OPER', { name: entry.name, nick: session.nick, address: session.host });
  session.numeric(N.RPL_YOUREOPER, 'You are now an IRC operator');
  session.sendMessage({ source: session.prefix, command: 'MODE', params: [session.nick, '+o'] });
}

