import { serve } from './serve.js';

const USAGE = `Usage: parley <command> [options]

Commands:
  serve     run the chat server (parley serve --help for its options)

Run 'parley <command> --help' for more.
`;

/** Entry point of the `parley` command; resolves to an exit code, or undefined to keep running. */
export async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
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
