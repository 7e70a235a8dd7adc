import { benchCommand } from '../bench/run.js';
import { chat } from './chat.js';
import { hashPasswordCommand } from './hash-password.js';
import { serve } from './serve.js';
import { storeCommand } from './store.js';
import { user } from './user.js';

const USAGE = `Usage: parley <command> [options]

Commands:
  serve           run the chat server (parley serve --help for its options)
  chat            chat in the terminal (parley chat --help)
  user            manage accounts: add, passwd, del, list
  store           copy an SQLite store into PostgreSQL (parley store --help)
  hash-password   hash an operator password for the config file
  bench           load-test an IRC server on this machine (parley bench --help)

Run 'parley <command> --help' for more.
`;

/** Entry point of the `parley` command; resolves to an exit code, or undefined to keep running. */
export async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'chat':
      return chat(rest);
    case 'user':
      return user(rest);
    case 'store':
      return storeCommand(rest);
    case 'hash-password':
      return hashPasswordCommand(rest);
    case 'bench':
      return benchCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`parley: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}
