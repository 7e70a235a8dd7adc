/**
 * The IRC client engine: one object per user, shared by the terminal client, the load tester
 * and the web client. Browser-safe: sockets come in through a Transport.
 *
 *   const client = new IrcClient({ transport: nodeTransport({ host, port }), nick: 'alice', rooms: ['#lobby'] });
 *   client.on('message', (m) => show(m));
 *   client.connect();
 */
import type { IrcMessage } from '../protocol/index.js';
import { login, registerAccount, type AccountResult } from './accounts.js';
import { ClientConnection } from './connection.js';
import { dispatch } from './dispatch.js';
import type { ChatMessage } from './events.js';
import { toChatMessage } from './messages.js';
import type { ClientOptions, SaslCredentials } from './options.js';
import type { RequestPurpose } from './requests.js';
import { RoomKeeper } from './rooms.js';
import { splitText, textBudget } from './split-text.js';
import { utf8Length } from './base64.js';
import { multilineBatches, multilineLimits, MULTILINE_CAP, type MultilineLimits } from './multiline.js';

export class IrcClient extends ClientConnection {
  private readonly rooms = new RoomKeeper(this);

  constructor(options: ClientOptions) {
    super(options);
    for (const room of options.rooms ?? []) this.rooms.want(room);
  }

  /** Rooms we are in or will rejoin after a reconnect. */
  get wantedRooms(): string[] {
    return this.rooms.names();
  }

  join(room: string, key?: string): void {
    this.rooms.want(room, key);
    if (this.status === 'ready') this.sendMessage({ command: 'JOIN', params: key ? [room, key] : [room] });
  }

  part(room: string, reason?: string): void {
    this.rooms.forget(room);
    this.tracker.forget(this.isupport.fold(room));
    if (this.status === 'ready') this.sendMessage({ command: 'PART', params: reason ? [room, reason] : [room] });
  }

  /** Send text to a room or nick; newlines start new messages, long lines are split. */
  say(target: string, text: string): void {
    this.sendText('PRIVMSG', target, text, false);
  }

  /** `/me waves`: a CTCP ACTION. */
  action(target: string, text: string): void {
    this.sendText('PRIVMSG', target, text, true);
  }

  notice(target: string, text: string): void {
    this.sendText('NOTICE', target, text, false);
  }

  setNick(nick: string): void {
    if (this.connected) this.sendMessage({ command: 'NICK', params: [nick] });
    else this.nick = this.desiredNick = nick;
  }

  setTopic(room: string, topic: string): void {
    this.sendMessage({ command: 'TOPIC', params: [room, topic] });
  }

  /** null: back. The away message is restored after a reconnect. */
  setAway(message: string | null): void {
    this.away = message;
    this.sendMessage({ command: 'AWAY', params: message ? [message] : [] });
  }

  /** draft/read-marker: tell our other devices what we have read. No-op without the cap. */
  markRead(target: string, time: Date): void {
    if (this.caps.has('draft/read-marker')) this.sendMessage({ command: 'MARKREAD', params: [target, `timestamp=${time.toISOString()}`] });
  }

  login(account: string, password: string, mechanism?: SaslCredentials['mechanism']): Promise<AccountResult> {
    return login(this, account, password, mechanism);
  }

  registerAccount(account: string, password: string, email?: string): Promise<AccountResult> {
    return registerAccount(this, account, password, email);
  }

  /** The latest messages of a conversation (up to `limit`). */
  latest(target: string, limit: number): Promise<ChatMessage[]> {
    return this.fetchHistory('LATEST', target, '*', limit, 'request');
  }

  /** Messages before a reference (`msgid=…` or `timestamp=…`), oldest first. */
  before(target: string, ref: string, limit: number): Promise<ChatMessage[]> {
    return this.fetchHistory('BEFORE', target, ref, limit, 'request');
  }

  after(target: string, ref: string, limit: number): Promise<ChatMessage[]> {
    return this.fetchHistory('AFTER', target, ref, limit, 'request');
  }

  /**
   * CHATHISTORY <sub> <target> <ref> <limit>. Resolves with every message in the reply, seen or
   * not; the same messages also come as a `history` event, without those already delivered.
   */
  async fetchHistory(sub: string, target: string, ref: string, limit: number, purpose: RequestPurpose): Promise<ChatMessage[]> {
    if (!this.caps.has('draft/chathistory')) return [];
    const lines = await this.request(`CHATHISTORY ${sub} ${target} ${ref} ${limit}`, { purpose });
    return lines.map((line) => toChatMessage(line, this.nick, this.isupport)).filter((m): m is ChatMessage => m !== null);
  }

  /** @internal Our JOIN came back (dispatch.ts). */
  roomJoined(room: string): void {
    this.rooms.joined(room);
  }

  /** @internal A room we are in was renamed (draft/channel-rename). */
  roomRenamed(oldName: string, newName: string): void {
    this.state.renameRoom(oldName, newName);
    this.rooms.rename(oldName, newName);
    this.tracker.rename(this.isupport.fold(oldName), this.isupport.fold(newName));
  }

  /** @internal We were kicked: do not rejoin after a reconnect. */
  forgetRoom(room: string): void {
    this.rooms.forget(room);
  }

  protected handle(message: IrcMessage): void {
    dispatch(this, message);
  }

  protected onReady(reconnected: boolean): void {
    this.rooms.joinAll();
    if (this.away) this.sendMessage({ command: 'AWAY', params: [this.away] });
    if (reconnected) void this.rooms.catchUpDirect();
  }

  private sendText(command: 'PRIVMSG' | 'NOTICE', target: string, text: string, isAction: boolean): void {
    const budget = textBudget(this.nick, target, command) - (isAction ? 9 : 0);
    const limits = command === 'PRIVMSG' && !isAction && this.caps.has(MULTILINE_CAP) && this.caps.has('batch')
      ? multilineLimits(this.offeredCaps.get(MULTILINE_CAP))
      : null;
    if (limits && (text.includes('\n') || utf8Length(text) > budget)) return this.sendMultiline(target, text, budget, limits);
    for (const line of text.split(/\r?\n/)) {
      if (line === '' && !isAction) continue;
      for (const piece of splitText(line, budget)) {
        const body = isAction ? `\x01ACTION ${piece}\x01` : piece;
        this.sendMessage({ command, params: [target, body] });
        this.echoLocally(command, target, body);
      }
    }
  }

  /** Several lines (or one too long for a line) as one message: a draft/multiline batch per limit's worth. */
  private sendMultiline(target: string, text: string, budget: number, limits: MultilineLimits): void {
    for (const lines of multilineBatches(text, budget, limits)) {
      const ref = `ml${++this.multilineBatches}`;
      this.sendMessage({ command: 'BATCH', params: [`+${ref}`, MULTILINE_CAP, target] });
      for (const line of lines) {
        const tags: Record<string, string> = line.concat ? { batch: ref, 'draft/multiline-concat': '' } : { batch: ref };
        this.sendMessage({ tags, command: 'PRIVMSG', params: [target, line.text] });
      }
      this.sendMessage({ command: 'BATCH', params: [`-${ref}`] });
      this.echoLocally('PRIVMSG', target, lines.reduce((all, line, i) => all + (i === 0 || line.concat ? '' : '\n') + line.text, ''));
    }
  }

  private multilineBatches = 0;

  /** Servers without echo-message do not send our lines back: show them the same way anyway. */
  private echoLocally(command: 'PRIVMSG' | 'NOTICE', target: string, text: string): void {
    if (this.caps.has('echo-message') || !this.connected) return;
    const message = toChatMessage({ source: this.nick, command, params: [target, text] }, this.nick, this.isupport);
    if (message) this.emitter.emit(command === 'PRIVMSG' ? 'message' : 'notice', message);
  }
}
