/** PRIVMSG/NOTICE lines as ChatMessage values. */
import type { IrcMessage } from '../protocol/index.js';
import type { ChatMessage } from './events.js';
import type { Isupport } from './isupport.js';

export function nickOf(prefix: string | undefined): string {
  if (!prefix) return '';
  const bang = prefix.indexOf('!');
  return bang === -1 ? prefix : prefix.slice(0, bang);
}

/** `\x01ACTION waves\x01` -> { command: 'ACTION', text: 'waves' }; null for plain text. */
export function parseCtcp(text: string): { command: string; text: string } | null {
  if (text.charCodeAt(0) !== 1) return null;
  const body = text.slice(1, text.endsWith('\x01') ? -1 : undefined);
  const space = body.indexOf(' ');
  return space === -1 ? { command: body.toUpperCase(), text: '' } : { command: body.slice(0, space).toUpperCase(), text: body.slice(space + 1) };
}

/**
 * null for anything that is not a well-formed PRIVMSG/NOTICE, and for CTCP other than ACTION
 * (those are requests to the client, not chat).
 */
export function toChatMessage(message: IrcMessage, ownNick: string, isupport: Isupport, now = new Date()): ChatMessage | null {
  const { command, params } = message;
  if ((command !== 'PRIVMSG' && command !== 'NOTICE') || params.length < 2) return null;
  const target = params[0]!;
  let text = params[1]!;
  let isAction = false;
  const ctcp = parseCtcp(text);
  if (ctcp) {
    if (ctcp.command !== 'ACTION' || command !== 'PRIVMSG') return null;
    isAction = true;
    text = ctcp.text;
  }
  const prefix = message.source ?? '';
  const sender = nickOf(prefix) || '*';
  const isOwn = isupport.fold(sender) === isupport.fold(ownNick);
  const room = stripStatusPrefix(target, isupport);
  let conversation: string;
  if (isupport.isRoom(room)) conversation = room;
  else if (isOwn) conversation = target;
  else conversation = sender;
  const tags = message.tags ?? {};
  const chat: ChatMessage = {
    command,
    time: parseTime(tags.time) ?? now,
    sender,
    prefix,
    target,
    conversation,
    text,
    isAction,
    isOwn,
    tags,
  };
  if (tags.msgid) chat.msgid = tags.msgid;
  if (tags.account) chat.account = tags.account;
  return chat;
}

/** `@#room` (STATUSMSG, to ops only) belongs to `#room`. */
function stripStatusPrefix(target: string, isupport: Isupport): string {
  const symbols = isupport.prefix.symbols;
  let i = 0;
  while (i < target.length - 1 && symbols.includes(target[i]!)) i++;
  return target.slice(i);
}

export function parseTime(value: string | undefined): Date | null {
  if (!value) return null;
  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? null : time;
}
