import { parseArgs } from 'node:util';
import { Accounts } from '../core/accounts.js';
import { ConfigError, loadConfig } from '../config/load.js';
import { createLogger } from '../observability/logger.js';
import { foldCase, NICK_RULES } from '../protocol/index.js';
import { openStore } from '../store/open.js';
import { readSecret } from './read-secret.js';

export const USER_HELP = `Usage: parley user <add|passwd|del|list> [NAME] [--config FILE] [--data DIR]

Manage accounts in the server's store. Works while the server runs or not.

  add NAME      create an account (password asked without echo, or read from stdin)
  passwd NAME   set a new password
  del NAME      delete an account
  list          list accounts
`;

/** `parley user ...`: account administration on the same store the server uses. */
export async function user(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { config: { type: 'string' }, data: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    process.stderr.write(`parley user: ${(err as Error).message}\n\n${USER_HELP}`);
    return 2;
  }
  const [action, name] = parsed.positionals;
  if (parsed.values.help || !action) {
    process.stdout.write(USER_HELP);
    return parsed.values.help ? 0 : 2;
  }
  if (action !== 'list' && !name) {
    process.stderr.write(`parley user ${action}: an account name is needed\n`);
    return 2;
  }
  let config;
  try {
    config = loadConfig({ file: parsed.values.config, overrides: parsed.values.data ? { data_dir: parsed.values.data } : {} });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`parley user: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  let store;
  try {
    store = await openStore(config, createLogger(config.log.level));
  } catch (err) {
    // A store that cannot be opened (PostgreSQL unreachable, a newer schema): one line, no stack.
    process.stderr.write(`parley user: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const accounts = new Accounts(store, config.accounts);
  try {
    switch (action) {
      case 'list': {
        process.stdout.write(accountTable(await store.accounts.list()));
        return 0;
      }
      case 'add': {
        const password = await askPassword(config.accounts.password_min_length);
        if (password === null) return 1;
        const result = await accounts.register(name!, password, null, config.limits.nick_length);
        if (!result.ok) {
          process.stderr.write(`parley user add: ${name}: ${describe(result.code)}\n`);
          return 1;
        }
        process.stdout.write(`account ${result.account.name} created\n`);
        return 0;
      }
      case 'passwd': {
        if (!(await store.accounts.get(foldCase(name!)))) return noSuchAccount(name!);
        const password = await askPassword(config.accounts.password_min_length);
        if (password === null) return 1;
        await accounts.setPassword(name!, password);
        process.stdout.write(`password of ${name} changed\n`);
        return 0;
      }
      case 'del': {
        if (!(await store.accounts.delete(foldCase(name!)))) return noSuchAccount(name!);
        process.stdout.write(`account ${name} deleted\n`);
        return 0;
      }
      default:
        process.stderr.write(`parley user: unknown action '${action}'\n\n${USER_HELP}`);
        return 2;
    }
  } finally {
    await store.close();
  }
}

async function askPassword(minLength: number): Promise<string | null> {
  const password = await readSecret('Password: ');
  if (password.length < minLength) {
    process.stderr.write(`parley user: the password must have at least ${minLength} characters\n`);
    return null;
  }
  return password;
}

function noSuchAccount(name: string): number {
  process.stderr.write(`parley user: no account named ${name}\n`);
  return 1;
}

function describe(code: 'ACCOUNT_EXISTS' | 'WEAK_PASSWORD' | 'BAD_ACCOUNT_NAME'): string {
  return {
    ACCOUNT_EXISTS: 'an account with this name exists',
    WEAK_PASSWORD: 'the password is too short',
    BAD_ACCOUNT_NAME: `account names follow the nickname rules: ${NICK_RULES}`,
  }[code];
}

/** `parley user list`: a header row, then one aligned row per account (created at, UTC). */
function accountTable(accounts: { name: string; createdAt: number; email: string | null }[]): string {
  if (accounts.length === 0) return 'No accounts.\n';
  const rows = [['ACCOUNT', 'CREATED (UTC)', 'EMAIL'], ...accounts.map((a) => [a.name, new Date(a.createdAt).toISOString().slice(0, 16).replace('T', ' '), a.email ?? ''])];
  const width = Math.max(...rows.map((r) => r[0]!.length));
  return rows.map(([name, created, email]) => `${name!.padEnd(width)}  ${created}  ${email}`.trimEnd() + '\n').join('');
}
