import { DEFAULT_SCRYPT_PARAMS, hashPassword } from '../auth/password.js';
import { readSecret } from './read-secret.js';

/** `parley hash-password`: print a hash for `opers[].password_hash` in the config file. */
export async function hashPasswordCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write('Usage: parley hash-password\n\nReads a password (no echo, or from stdin) and prints its scrypt hash for opers[].password_hash.\n');
    return 0;
  }
  const password = await readSecret('Password: ');
  if (password === '') {
    process.stderr.write('parley hash-password: empty password\n');
    return 1;
  }
  process.stdout.write(`${await hashPassword(password, DEFAULT_SCRYPT_PARAMS)}\n`);
  return 0;
}
