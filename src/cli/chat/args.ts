import { statSync } from 'node:fs';
import { checkHostPort } from '../../config/host-port.js';
import { isValidNick, NICK_RULES } from '../../protocol/index.js';
import { UsageError } from '../serve-args.js';

export const CHAT_HELP = `Usage: parley chat [host[:port]] [options]

Chat in the terminal. Connects to 127.0.0.1:6667 unless told otherwise.

Options:
  --nick NAME    your name (asked for when not given)
  --room ROOM    room to join first (default #lobby); repeat for more
  --tls          connect with TLS (default port 6697)
  --insecure     with --tls: accept any certificate (self-signed test servers)
  --ca FILE      with --tls: trust certificates signed by this CA (PEM file)
  --login        log in to the account named like your nick (asks for the password)
  -h, --help     show this help

Type /help once connected for commands. A line with only "." leaves.
`;

export interface ChatArgs {
  help: boolean;
  host: string;
  port: number;
  tls: boolean;
  insecure: boolean;
  /** A CA certificate file (PEM) to trust for --tls; checked to exist. */
  ca?: string;
  nick?: string;
  rooms: string[];
  login: boolean;
}

/** A name people can type: up to 30 characters, the server's nick grammar. */
export const NICK_MAX = 30;

/** Parses the arguments after `parley chat`. Throws UsageError with a readable message. */
export function parseChatArgs(argv: readonly string[]): ChatArgs {
  const args: ChatArgs = { help: false, host: '127.0.0.1', port: 0, tls: false, insecure: false, rooms: [], login: false };
  let address: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    const flag = eq === -1 ? raw : raw.slice(0, eq);
    const value = (): string => {
      const inline = eq === -1 ? undefined : raw.slice(eq + 1);
      const next = inline ?? argv[++i];
      if (next === undefined || next === '') throw new UsageError(`${flag} needs a value (try 'parley chat --help')`);
      return next;
    };
    switch (flag) {
      case '-h':
      case '--help':
        args.help = true;
        break;
      case '--tls':
        args.tls = true;
        break;
      case '--insecure':
        args.insecure = true;
        break;
      case '--ca': {
        const file = value();
        if (!statSync(file, { throwIfNoEntry: false })?.isFile()) throw new UsageError(`--ca ${file}: no such file (give the CA certificate, a PEM file)`);
        args.ca = file;
        break;
      }
      case '--login':
        args.login = true;
        break;
      case '--nick': {
        const nick = value();
        if (!isValidNick(nick, NICK_MAX)) throw new UsageError(nickRules(nick));
        args.nick = nick;
        break;
      }
      case '--room':
        args.rooms.push(normalizeRoom(value()));
        break;
      default:
        if (raw.startsWith('-')) throw new UsageError(`unknown option ${raw} (try 'parley chat --help')`);
        if (address !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(raw)}: give one server address`);
        address = raw;
    }
  }
  if (args.ca !== undefined && !args.tls) throw new UsageError('--ca is for TLS connections: add --tls');
  if (args.rooms.length === 0) args.rooms.push('#lobby');
  const defaultPort = args.tls ? 6697 : 6667;
  args.port = defaultPort;
  if (address !== undefined) Object.assign(args, parseAddress(address, defaultPort));
  return args;
}

function parseAddress(address: string, defaultPort: number): { host: string; port: number } {
  // A bare host or [v6] without a port gets the default one.
  const withPort = /:\d*$/.test(address) && !/^[^[]*:.*:/.test(address) ? address : `${address}:${defaultPort}`;
  const parsed = checkHostPort(withPort);
  if (typeof parsed === 'string') throw new UsageError(`bad server address: ${parsed}`);
  if (parsed.port === 0) throw new UsageError(`bad server address ${JSON.stringify(address)}: port 0`);
  return parsed;
}

/** `lobby` -> `#lobby`: people forget the #. */
export function normalizeRoom(name: string): string {
  return name.startsWith('#') ? name : `#${name}`;
}

export function nickRules(nick: string): string {
  const refused = nick === '' ? 'no name given' : `${JSON.stringify(nick)} cannot be a name`;
  return `${refused}: use up to ${NICK_MAX} ${NICK_RULES}`;
}
