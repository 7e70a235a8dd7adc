/** Composer input to actions: plain text, or /join /part /me /msg /nick /topic /query. */
export type Command =
  | { kind: 'say'; text: string }
  | { kind: 'me'; text: string }
  | { kind: 'join'; room: string; key?: string }
  | { kind: 'part'; room?: string; reason?: string }
  | { kind: 'msg'; target: string; text: string }
  | { kind: 'query'; target: string }
  | { kind: 'nick'; nick: string }
  | { kind: 'topic'; topic: string }
  | { kind: 'error'; text: string };

export function parseInput(input: string): Command | null {
  if (input.trim() === '') return null;
  if (!input.startsWith('/') || input.startsWith('//')) return { kind: 'say', text: input.startsWith('//') ? input.slice(1) : input };
  const match = /^\/(\S+)\s*([\s\S]*)$/.exec(input)!;
  const name = match[1]!.toLowerCase();
  const rest = match[2]!.trim();
  const [first = '', ...others] = rest.split(/\s+/);
  const tail = rest.slice(first.length).trim();
  switch (name) {
    case 'me':
      return rest ? { kind: 'me', text: rest } : { kind: 'error', text: 'Usage: /me <action>' };
    case 'join':
    case 'j':
      if (!first) return { kind: 'error', text: 'Usage: /join #room [key]' };
      return { kind: 'join', room: /^[#&]/.test(first) ? first : `#${first}`, ...(others[0] ? { key: others[0] } : {}) };
    case 'part':
    case 'leave':
      if (first && /^[#&]/.test(first)) return { kind: 'part', room: first, ...(tail ? { reason: tail } : {}) };
      return { kind: 'part', ...(rest ? { reason: rest } : {}) };
    case 'msg':
      return first && tail ? { kind: 'msg', target: first, text: tail } : { kind: 'error', text: 'Usage: /msg <nick> <text>' };
    case 'query':
      return first ? { kind: 'query', target: first } : { kind: 'error', text: 'Usage: /query <nick>' };
    case 'nick':
      return first ? { kind: 'nick', nick: first } : { kind: 'error', text: 'Usage: /nick <new nick>' };
    case 'topic':
      return { kind: 'topic', topic: rest };
    default:
      return { kind: 'error', text: `Unknown command /${name}. Try /join /part /me /msg /nick /topic (// sends a leading slash).` };
  }
}
