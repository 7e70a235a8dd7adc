/** What the page shows: one Conversation per room or direct-message partner. */
import type { ChatMessage } from '../../src/client/events.js';

export interface Line {
  time: Date;
  sender: string;
  text: string;
  kind: 'message' | 'action' | 'notice' | 'event';
  isOwn: boolean;
  mention: boolean;
  msgid?: string;
  /** A join, part or quit: consecutive ones fold into one quiet line. */
  membership?: boolean;
}

export interface Conversation {
  name: string;
  isRoom: boolean;
  lines: Line[];
  unread: number;
  mentions: number;
  /** msgids already shown, so history and live lines never repeat. */
  seen: Set<string>;
  loadingOlder: boolean;
  noOlder: boolean;
  /** The account's read marker (draft/read-marker), shared by all its devices. */
  readMarker: Date | null;
}

export function newConversation(name: string, isRoom: boolean): Conversation {
  return { name, isRoom, lines: [], unread: 0, mentions: 0, seen: new Set(), loadingOlder: false, noOlder: false, readMarker: null };
}

export function toLine(message: ChatMessage, mention: boolean): Line {
  return {
    time: message.time,
    sender: message.sender,
    text: message.text,
    kind: message.isAction ? 'action' : message.command === 'NOTICE' ? 'notice' : 'message',
    isOwn: message.isOwn,
    mention,
    ...(message.msgid ? { msgid: message.msgid } : {}),
  };
}

/** Adds lines not seen yet; returns those added. Keeps the conversation in time order. */
export function addLines(conversation: Conversation, lines: Line[]): Line[] {
  const fresh = lines.filter((line) => !line.msgid || !conversation.seen.has(line.msgid));
  for (const line of fresh) if (line.msgid) conversation.seen.add(line.msgid);
  if (fresh.length === 0) return fresh;
  const last = conversation.lines.at(-1);
  if (!last || fresh.every((line) => line.time >= last.time)) conversation.lines.push(...fresh);
  else {
    conversation.lines.push(...fresh);
    conversation.lines.sort((a, b) => a.time.getTime() - b.time.getTime());
  }
  return fresh;
}

/** A word-boundary, case-insensitive match of our nick. */
export function mentions(text: string, nick: string): boolean {
  const escaped = nick.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\p{L}\\p{N}_])${escaped}($|[^\\p{L}\\p{N}_])`, 'iu').test(text);
}

/** Messages from others newer than the read marker: what this account has not read yet. */
export function unreadSince(conversation: Conversation): number {
  const marker = conversation.readMarker;
  if (!marker) return 0;
  return conversation.lines.filter((line) => line.kind !== 'event' && !line.isOwn && line.time > marker).length;
}
