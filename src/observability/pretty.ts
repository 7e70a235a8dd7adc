/**
 * The human-readable log format (`log.format: pretty`, the default on a terminal): one line per
 * event, `12:34:56.789 INFO  msg key=value ...` (UTC time), an exception's stack indented below.
 * The JSON line pino made is the input, so both formats carry the same fields.
 */
const LEVEL_COLOURS: Record<string, string> = { debug: '\x1b[90m', info: '\x1b[32m', warn: '\x1b[33m', error: '\x1b[31m' };
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';
/** Plain words print bare; anything else (spaces, quotes, '=', control characters) as JSON. */
const BARE = /^[\w.:/@#+\-[\]]+$/;

export function formatPretty(jsonLine: string, colors = false): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(jsonLine) as Record<string, unknown>;
  } catch {
    return jsonLine;
  }
  const { time, level, msg, err, ...fields } = entry;
  const label = String(level ?? '').toUpperCase().padEnd(5);
  const clock = typeof time === 'string' ? time.slice(11, 23) : '';
  let line = colors ? `${DIM}${clock}${RESET} ${LEVEL_COLOURS[String(level)] ?? ''}${label}${RESET} ${String(msg)}` : `${clock} ${label} ${String(msg)}`;
  for (const [key, value] of Object.entries(fields)) line += ` ${key}=${formatValue(value)}`;
  let stack = '';
  if (err !== undefined) {
    const e = err as { name?: string; message?: string; stack?: string; code?: unknown };
    line += ` err=${formatValue(e.message ?? err)}${e.code === undefined ? '' : ` code=${formatValue(e.code)}`}`;
    if (typeof e.stack === 'string') stack = e.stack.split('\n').map((l) => `    ${l}`).join('\n') + '\n';
  }
  return `${line}\n${stack}`;
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return BARE.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return JSON.stringify(value) ?? String(value);
}
