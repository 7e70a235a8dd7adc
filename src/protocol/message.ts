/**
 * IRC message grammar (modern.ircdocs.horse "Message format", IRCv3 message-tags).
 * Pure: no I/O, no Node-only imports, so the browser client can share it.
 */

export type Tags = Record<string, string>;

export interface IrcMessage {
  tags?: Tags;
  /** `nick!user@host` or a server name, without the leading colon. */
  source?: string;
  /** Upper-cased verb or three-digit numeric. */
  command: string;
  params: string[];
}

/** Byte limits from the specs: tags section (with `@` and the space) and the rest (with CRLF). */
export const MAX_TAGS_BYTES = 8191;
export const MAX_CLIENT_TAGS_BYTES = 4094;
export const MAX_LINE_BYTES = 512;
/** Max params a message may carry (RFC 1459 and later). */
export const MAX_PARAMS = 15;

export class ParseError extends Error {}

const TAG_UNESCAPES: Record<string, string> = { ':': ';', s: ' ', '\\': '\\', r: '\r', n: '\n' };

/** Unescape a tag value. Unknown escapes drop the backslash; a trailing backslash is dropped. */
export function unescapeTagValue(value: string): string {
  if (!value.includes('\\')) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    i++;
    if (i >= value.length) break;
    const next = value[i]!;
    out += TAG_UNESCAPES[next] ?? next;
  }
  return out;
}

export function escapeTagValue(value: string): string {
  if (!/[;\s\\]/.test(value)) return value;
  return value.replace(/[\\; \r\n]/g, (ch) =>
    ch === '\\' ? '\\\\' : ch === ';' ? '\\:' : ch === ' ' ? '\\s' : ch === '\r' ? '\\r' : '\\n',
  );
}

export function parseTags(raw: string): Tags {
  const tags: Tags = {};
  for (const item of raw.split(';')) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    const key = eq === -1 ? item : item.slice(0, eq);
    if (key === '' || key === '+') throw new ParseError('empty tag key');
    // Later duplicates win, as the spec asks.
    tags[key] = eq === -1 ? '' : unescapeTagValue(item.slice(eq + 1));
  }
  return tags;
}

export function serializeTags(tags: Tags): string {
  let out = '';
  for (const key in tags) {
    const value = tags[key]!;
    if (out !== '') out += ';';
    out += value === '' ? key : `${key}=${escapeTagValue(value)}`;
  }
  return out;
}

/**
 * Parse one line (without CR/LF). Returns null for an empty line, which the spec says to ignore.
 * Throws ParseError for lines that have no command.
 */
export function parseMessage(line: string): IrcMessage | null {
  let pos = 0;
  const len = line.length;
  while (pos < len && line.charCodeAt(pos) === 32) pos++;
  if (pos >= len) return null;

  let tags: Tags | undefined;
  if (line.charCodeAt(pos) === 64 /* @ */) {
    const end = line.indexOf(' ', pos);
    if (end === -1) throw new ParseError('tags without a command');
    tags = parseTags(line.slice(pos + 1, end));
    pos = end;
    while (pos < len && line.charCodeAt(pos) === 32) pos++;
  }

  let source: string | undefined;
  if (line.charCodeAt(pos) === 58 /* : */) {
    const end = line.indexOf(' ', pos);
    if (end === -1) throw new ParseError('source without a command');
    source = line.slice(pos + 1, end);
    pos = end;
    while (pos < len && line.charCodeAt(pos) === 32) pos++;
  }

  let end = line.indexOf(' ', pos);
  if (end === -1) end = len;
  const command = line.slice(pos, end).toUpperCase();
  if (command === '') throw new ParseError('missing command');
  pos = end;

  const params: string[] = [];
  while (pos < len) {
    while (pos < len && line.charCodeAt(pos) === 32) pos++;
    if (pos >= len) break;
    if (line.charCodeAt(pos) === 58 /* : */) {
      params.push(line.slice(pos + 1));
      break;
    }
    let next = line.indexOf(' ', pos);
    if (next === -1) next = len;
    params.push(line.slice(pos, next));
    pos = next;
  }

  const message: IrcMessage = { command, params };
  if (tags) message.tags = tags;
  if (source !== undefined) message.source = source;
  return message;
}

/** Serialize to a wire line ending in CRLF. The last param gets a colon when it needs one. */
export function serializeMessage(message: IrcMessage): string {
  let out = '';
  if (message.tags) {
    const tags = serializeTags(message.tags);
    if (tags !== '') out += `@${tags} `;
  }
  if (message.source) out += `:${message.source} `;
  out += message.command;
  const params = message.params;
  const last = params.length - 1;
  for (let i = 0; i < params.length; i++) {
    const param = params[i]!;
    if (i === last && (param === '' || param.includes(' ') || param.charCodeAt(0) === 58)) {
      out += ` :${param}`;
    } else {
      out += ` ${param}`;
    }
  }
  return out + '\r\n';
}
