/**
 * Typing indicators (IRCv3 +typing client tag on TAGMSG): ours sent at most every 3 s while
 * typing, `done` when the composer is cleared; theirs shown per conversation, expiring after 6 s.
 */
import type { IrcClient } from '../../src/client/client.js';
import type { IrcMessage } from '../../src/protocol/index.js';

const SEND_EVERY_MS = 3000;
const EXPIRE_MS = 6000;

export class Typing {
  private lastSent = 0;
  private sentTo: string | null = null;
  /** folded conversation -> nick -> expiry timer */
  private readonly typing = new Map<string, Map<string, ReturnType<typeof setTimeout>>>();

  constructor(
    private readonly client: IrcClient,
    private readonly changed: (conversation: string) => void,
  ) {
    client.on('raw', (m) => this.received(m));
    client.on('message', (m) => this.stop(m.conversation, m.sender));
  }

  /** The composer changed. */
  input(target: string | null, text: string): void {
    if (!target || !this.client.caps.has('message-tags')) return;
    const typing = text !== '' && !text.startsWith('/');
    const now = Date.now();
    if (typing && (now - this.lastSent > SEND_EVERY_MS || this.sentTo !== target)) {
      this.send(target, 'active');
      this.lastSent = now;
      this.sentTo = target;
    } else if (!typing && this.sentTo === target) this.done();
  }

  /** A message was sent (receivers clear the indicator themselves) or the composer emptied. */
  sent(): void {
    this.sentTo = null;
    this.lastSent = 0;
  }

  private done(): void {
    if (this.sentTo) this.send(this.sentTo, 'done');
    this.sent();
  }

  private send(target: string, state: string): void {
    this.client.sendMessage({ tags: { '+typing': state }, command: 'TAGMSG', params: [target] });
  }

  /** Nicks typing in a conversation. */
  who(conversation: string): string[] {
    return [...(this.typing.get(this.client.isupport.fold(conversation))?.keys() ?? [])];
  }

  private received(m: IrcMessage): void {
    const state = m.tags?.['+typing'];
    if (m.command !== 'TAGMSG' || !state || !m.source) return;
    const nick = m.source.split('!')[0]!;
    if (this.client.isSelf(nick)) return;
    const target = m.params[0] ?? '';
    const conversation = this.client.isupport.isRoom(target) ? target : nick;
    if (state === 'active' || state === 'paused') {
      const key = this.client.isupport.fold(conversation);
      const nicks = this.typing.get(key) ?? new Map<string, ReturnType<typeof setTimeout>>();
      this.typing.set(key, nicks);
      clearTimeout(nicks.get(nick));
      nicks.set(nick, setTimeout(() => this.stop(conversation, nick), state === 'active' ? EXPIRE_MS : EXPIRE_MS * 5));
      this.changed(conversation);
    } else this.stop(conversation, nick);
  }

  private stop(conversation: string, nick: string): void {
    const nicks = this.typing.get(this.client.isupport.fold(conversation));
    if (!nicks?.has(nick)) return;
    clearTimeout(nicks.get(nick));
    nicks.delete(nick);
    this.changed(conversation);
  }
}
