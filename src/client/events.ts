/** What the engine tells its users. Every payload is plain data, safe to keep or post elsewhere. */
import type { IrcMessage, Tags } from '../protocol/index.js';

/** A PRIVMSG or NOTICE, live or from history. */
export interface ChatMessage {
  command: 'PRIVMSG' | 'NOTICE';
  /** server-time when the server sent it, else when it arrived. */
  time: Date;
  /** Sender's nick (or server name); `prefix` is the whole source. */
  sender: string;
  prefix: string;
  /** As sent: a room, our own nick (a direct message), or a STATUSMSG target like `@#room`. */
  target: string;
  /**
   * Where it belongs: the room, or for a direct message the other person's nick (the sender if it
   * came to us, the target if we sent it). Notices from servers and services get the sender.
   */
  conversation: string;
  /** Text without the CTCP ACTION wrapping; IRC formatting codes are kept. */
  text: string;
  isAction: boolean;
  /** Sent by us (an echo-message echo, or a local echo when the server does not echo). */
  isOwn: boolean;
  msgid?: string;
  /** account-tag: the sender's account, when logged in. */
  account?: string;
  tags: Tags;
}

export interface HistoryBatch {
  /** The conversation (room or nick) as the batch names it. */
  target: string;
  messages: ChatMessage[];
  /** `join`: replay on joining; `catch-up`: what we missed while disconnected; `request`: asked for. */
  reason: 'join' | 'catch-up' | 'request';
}

export type ErrorKind = 'fail' | 'numeric' | 'server' | 'sasl' | 'protocol' | 'connection';

export interface ClientError {
  kind: ErrorKind;
  /** The command the error is about, when known (FAIL's command, or the numeric's subject). */
  command?: string;
  /** FAIL code or numeric. */
  code?: string;
  /** The name the error is about (nick, room), when there is one. */
  subject?: string;
  text: string;
}

export interface ClientEvents {
  /** Registered and ready: after the end of MOTD. `reconnected` is true after a reconnect. */
  connected: { nick: string; account: string | null; caps: string[]; reconnected: boolean };
  disconnected: { reason: string; willReconnect: boolean };
  reconnecting: { attempt: number; delayMs: number };
  message: ChatMessage;
  notice: ChatMessage;
  history: HistoryBatch;
  join: { room: string; nick: string; account?: string | null; isSelf: boolean };
  part: { room: string; nick: string; reason: string; isSelf: boolean };
  kick: { room: string; nick: string; by: string; reason: string; isSelf: boolean };
  /** A room we are in was renamed (draft/channel-rename): `from` is the old name, `to` the new. */
  roomRename: { from: string; to: string; by: string; reason: string };
  quit: { nick: string; reason: string; rooms: string[] };
  nick: { oldNick: string; newNick: string; isSelf: boolean; rooms: string[] };
  topic: { room: string; topic: string; setBy?: string; time?: Date; isChange: boolean };
  names: { room: string; members: { nick: string; prefixes: string }[] };
  mode: { target: string; modes: string; params: string[]; by: string };
  away: { nick: string; message: string | null; isSelf: boolean };
  account: { nick: string; account: string | null; isSelf: boolean };
  /**
   * Before registration: the server refused our nick because it is a registered account we
   * are not logged in to (433 "Nickname is reserved..."). Registration waits: the app decides,
   * e.g. `close()` and connect again with `sasl`, or `setNick()` another. Without a listener the
   * engine tries another nick itself, as for a nick in use.
   */
  nickReserved: { nick: string };
  invite: { room: string; by: string; nick: string };
  readMarker: { target: string; time: Date | null };
  /** Informational server text: MOTD, welcome lines, NOTE/WARN replies, unhandled numerics. */
  info: { text: string; command: string };
  error: ClientError;
  /** Every parsed line from the server, before it is handled. */
  raw: IrcMessage;
}
