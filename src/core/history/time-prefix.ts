/**
 * Replayed lines for a client without server-time look new (irssi shows them at the time they
 * arrive), so they carry their time in the text, as bouncers do: `[14:03] hello`, with the date
 * when it was not today: `[2026-12-02 14:03] hello`. The server's local time zone. A CTCP
 * ACTION keeps its framing: `\x01ACTION [14:03] waves\x01`.
 */
const pad = (n: number) => String(n).padStart(2, '0');

export function timePrefix(time: number, now: number): string {
  const at = new Date(time);
  const today = new Date(now);
  const hhmm = `${pad(at.getHours())}:${pad(at.getMinutes())}`;
  const sameDay = at.getFullYear() === today.getFullYear() && at.getMonth() === today.getMonth() && at.getDate() === today.getDate();
  return sameDay ? `[${hhmm}]` : `[${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${hhmm}]`;
}

export function withTimePrefix(text: string, time: number, now: number): string {
  const prefix = timePrefix(time, now);
  if (text.startsWith('\x01ACTION ')) return `\x01ACTION ${prefix} ${text.slice(8)}`;
  return `${prefix} ${text}`;
}
