/** Replies to /who, /whois and /list, fetched as one request each and shown as lines. */
import type { IrcMessage } from '../../protocol/index.js';
import type { ChatSession } from './session.js';

const MAX_LIST = 100;

async function ask(session: ChatSession, line: string): Promise<IrcMessage[] | null> {
  try {
    return await session.client.request(line);
  } catch (err) {
    session.showHere('error', `${line.split(' ')[0]}: ${(err as Error).message}`);
    return null;
  }
}

// 352 <me> <room> <user> <host> <server> <nick> <H|G>[*][@+] :<hops> <realname>
export async function showWho(session: ChatSession, mask: string): Promise<void> {
  const replies = await ask(session, `WHO ${mask}`);
  if (!replies) return;
  const rows = replies.filter((m) => m.command === '352');
  if (rows.length === 0) return session.showHere('info', `Nobody matches ${mask}.`);
  for (const m of rows) {
    const [, room, user, host, , nick, flags = '', last = ''] = m.params;
    const away = flags.startsWith('G') ? ' (away)' : '';
    const realname = last.replace(/^\d+ /, '');
    session.showHere('info', `${flags.replace(/^[HG]\*?/, '')}${nick} ${user}@${host} ${room === '*' ? '' : room} · ${realname}${away}`);
  }
}

export async function showWhois(session: ChatSession, nick: string): Promise<void> {
  const replies = await ask(session, `WHOIS ${nick}`);
  if (!replies) return;
  const text = (m: IrcMessage) => m.params.at(-1) ?? '';
  for (const m of replies) {
    const p = m.params;
    if (m.command === '311') session.showHere('info', `${p[1]} is ${p[2]}@${p[3]} · ${text(m)}`);
    else if (m.command === '319') session.showHere('info', `${p[1]} is in ${text(m)}`);
    else if (m.command === '330') session.showHere('info', `${p[1]} is logged in as ${p[2]}`);
    else if (m.command === '301') session.showHere('info', `${p[1]} is away: ${text(m)}`);
    else if (m.command === '317') session.showHere('info', `${p[1]} has been idle ${formatIdle(Number(p[2]))}`);
    else if (m.command === '401') session.showHere('error', `${nick}: no such person online`);
  }
}

export async function showList(session: ChatSession): Promise<void> {
  const replies = await ask(session, 'LIST');
  if (!replies) return;
  const rooms = replies.filter((m) => m.command === '322').sort((a, b) => Number(b.params[2]) - Number(a.params[2]));
  if (rooms.length === 0) return session.showHere('info', 'No rooms yet. /join #name creates one.');
  session.showHere('info', `${rooms.length} room${rooms.length === 1 ? '' : 's'}:`);
  for (const m of rooms.slice(0, MAX_LIST)) {
    const [, room, users, topic] = m.params;
    session.showHere('info', `${room} (${users})${topic ? ` ${topic}` : ''}`);
  }
  if (rooms.length > MAX_LIST) session.showHere('info', `…and ${rooms.length - MAX_LIST} more.`);
}

function formatIdle(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'a while';
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}
