/** What the user typed, as a command. Pure: the chat session (session.ts) carries them out. */
import { normalizeRoom } from './args.js';

export type Command =
  | { kind: 'empty' }
  | { kind: 'say'; text: string }
  | { kind: 'me'; text: string }
  | { kind: 'quit'; reason?: string }
  | { kind: 'join'; room: string; key?: string }
  | { kind: 'part'; room?: string; reason?: string }
  | { kind: 'msg'; target: string; text: string }
  | { kind: 'query'; target: string }
  | { kind: 'nick'; nick: string }
  | { kind: 'topic'; room?: string; topic?: string }
  | { kind: 'names'; room?: string }
  | { kind: 'who'; mask?: string }
  | { kind: 'whois'; nick: string }
  | { kind: 'list' }
  | { kind: 'away'; message?: string }
  | { kind: 'switch'; to: string }
  | { kind: 'windows' }
  | { kind: 'close' }
  | { kind: 'login'; account?: string }
  | { kind: 'register'; email?: string }
  | { kind: 'quote'; line: string }
  | { kind: 'help' }
  | { kind: 'usage'; message: string };

export interface CommandHelp {
  name: string;
  args: string;
  text: string;
}

export const COMMANDS: CommandHelp[] = [
  { name: 'join', args: '#room [key]', text: 'join a room and switch to it' },
  { name: 'part', args: '[#room] [reason]', text: 'leave a room (this one if none is named)' },
  { name: 'msg', args: 'nick text', text: 'send a direct message' },
  { name: 'query', args: 'nick', text: 'open a window for direct messages with nick' },
  { name: 'me', args: 'action', text: 'say what you are doing: /me waves' },
  { name: 'nick', args: 'name', text: 'change your name' },
  { name: 'topic', args: '[text]', text: 'show or set the topic of this room' },
  { name: 'names', args: '[#room]', text: 'who is in the room' },
  { name: 'who', args: '[mask]', text: 'who is here, with details' },
  { name: 'whois', args: 'nick', text: 'about someone' },
  { name: 'list', args: '', text: 'rooms on this server' },
  { name: 'away', args: '[message]', text: 'mark yourself away; /away alone to come back' },
  { name: 'switch', args: 'N | name', text: 'go to window N or the one named (also Alt+1..9, Alt+0)' },
  { name: 'windows', args: '', text: 'list windows and their unread messages' },
  { name: 'close', args: '', text: 'close this window (leaves the room)' },
  { name: 'login', args: '[account]', text: 'log in (asks for your password)' },
  { name: 'register', args: '[email]', text: 'register your current name as an account' },
  { name: 'quote', args: 'LINE', text: 'send a raw IRC line' },
  { name: 'quit', args: '[reason]', text: 'leave (a line with only "." does the same)' },
  { name: 'help', args: '', text: 'this list' },
];

const ALIASES: Record<string, string> = { j: 'join', leave: 'part', q: 'query', w: 'windows', exit: 'quit', raw: 'quote', win: 'switch', query: 'query' };

/**
 * Plain text is a message; `/cmd args` a command; `//text` sends `/text`; `.` alone quits.
 * Formatting shorthand (*bold*) is applied later, when sending.
 */
export function parseInput(line: string): Command {
  if (line.trim() === '') return { kind: 'empty' };
  if (line.trim() === '.') return { kind: 'quit' };
  if (!line.startsWith('/')) return { kind: 'say', text: line };
  if (line.startsWith('//')) return { kind: 'say', text: line.slice(1) };
  const match = /^\/(\S+)\s*(.*)$/s.exec(line)!;
  const name = match[1]!.toLowerCase();
  const rest = match[2]!.trim();
  const [first, ...others] = rest === '' ? [] : rest.split(/\s+/);
  const after = (n: number) => rest.split(/\s+/).slice(n).join(' ') || undefined;
  const usage = (cmd: string) => ({ kind: 'usage' as const, message: `Usage: /${cmd} ${COMMANDS.find((c) => c.name === cmd)?.args ?? ''}`.trimEnd() });
  switch (ALIASES[name] ?? name) {
    case 'me':
      return rest === '' ? usage('me') : { kind: 'me', text: rest };
    case 'quit':
      return rest === '' ? { kind: 'quit' } : { kind: 'quit', reason: rest };
    case 'join':
      return first ? { kind: 'join', room: normalizeRoom(first), ...(others[0] ? { key: others[0] } : {}) } : usage('join');
    case 'part':
      if (first && first.startsWith('#')) return { kind: 'part', room: first, ...(after(1) ? { reason: after(1) } : {}) };
      return rest === '' ? { kind: 'part' } : { kind: 'part', reason: rest };
    case 'msg':
      return first && others.length > 0 ? { kind: 'msg', target: first, text: rest.slice(first.length).trim() } : usage('msg');
    case 'query':
      return first ? { kind: 'query', target: first } : usage('query');
    case 'nick':
      return first ? { kind: 'nick', nick: first } : usage('nick');
    case 'topic':
      if (first && first.startsWith('#')) return { kind: 'topic', room: first, ...(after(1) ? { topic: after(1) } : {}) };
      return rest === '' ? { kind: 'topic' } : { kind: 'topic', topic: rest };
    case 'names':
      return first ? { kind: 'names', room: normalizeRoom(first) } : { kind: 'names' };
    case 'who':
      return first ? { kind: 'who', mask: first } : { kind: 'who' };
    case 'whois':
      return first ? { kind: 'whois', nick: first } : usage('whois');
    case 'list':
      return { kind: 'list' };
    case 'away':
      return rest === '' ? { kind: 'away' } : { kind: 'away', message: rest };
    case 'switch':
      return first ? { kind: 'switch', to: first } : usage('switch');
    case 'windows':
      return { kind: 'windows' };
    case 'close':
      return { kind: 'close' };
    case 'login':
      return first ? { kind: 'login', account: first } : { kind: 'login' };
    case 'register':
      return first ? { kind: 'register', email: first } : { kind: 'register' };
    case 'quote':
      return rest === '' ? usage('quote') : { kind: 'quote', line: rest };
    case 'help':
      return { kind: 'help' };
    default:
      return { kind: 'usage', message: `Unknown command /${name}. Type /help for the list.` };
  }
}
