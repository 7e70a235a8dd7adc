/** The chat screen: engine events in, model updates, views re-rendered. */
import type { IrcClient } from '../../src/client/client.js';
import type { ChatMessage } from '../../src/client/events.js';
import { stripFormatting } from '../../src/client/formatting.js';
import { attachComposerKeys } from './composer-keys.js';
import { makeTopicEditable, makeTopicReadOnly } from './topic-editor.js';
import { parseInput } from './commands.js';
import { addLines, mentions, newConversation, toLine, unreadSince, type Conversation, type Line } from './model.js';
import { notify, setTitle } from './notify.js';
import { Typing } from './typing.js';
import { appendLines, createLayout, prependLines, renderLog, renderMembers, renderRooms, type Layout } from './views.js';

const OLDER_PAGE = 50;

export class Chat {
  readonly layout: Layout;
  private readonly conversations = new Map<string, Conversation>();
  private active: string | null = null;
  private readonly typing: Typing;

  constructor(private readonly client: IrcClient) {
    this.layout = createLayout(client.nick);
    this.typing = new Typing(client, (conversation) => {
      if (this.isActive(conversation)) this.renderTyping();
    });
    this.wireEngine();
    this.wireUi();
  }

  // ---- engine -> model ----

  private wireEngine(): void {
    const c = this.client;
    c.on('message', (m) => this.live(m));
    c.on('notice', (m) => {
      if (m.conversation.includes('.') && !c.isupport.isRoom(m.conversation)) return; // server notices
      this.live(m);
    });
    c.on('history', (batch) => {
      if (batch.reason === 'request') return; // before(): handled where it was asked for
      const conv = this.conversation(batch.target);
      const fresh = addLines(conv, batch.messages.map((m) => toLine(m, !m.isOwn && mentions(stripFormatting(m.text), c.nick))));
      if (fresh.length === 0) return;
      // History from before we connected: what is newer than the read marker is unread.
      conv.unread = Math.max(conv.unread, unreadSince(conv));
      if (conv.name !== this.active) {
        this.renderRooms();
        return;
      }
      const firstUnread = firstUnreadLine(conv.lines, conv.unread);
      if (!document.hidden) this.markSeen(conv.name);
      this.renderActive(firstUnread);
    });
    c.on('join', (e) => {
      if (e.isSelf) {
        this.conversation(e.room);
        if (!this.active || this.pendingSelect === c.isupport.fold(e.room)) this.select(e.room);
        else this.renderRooms();
      } else this.event(e.room, `${e.nick} joined`, true);
      this.refreshMembers(e.room);
    });
    c.on('part', (e) => {
      if (e.isSelf) this.drop(e.room);
      else this.event(e.room, `${e.nick} left${e.reason ? ` (${e.reason})` : ''}`, true);
      this.refreshMembers(e.room);
    });
    c.on('roomRename', (e) => {
      this.renameConversation(e.from, e.to);
      this.event(e.to, `${e.by} renamed ${e.from} to ${e.to}${e.reason ? ` (${e.reason})` : ''}`);
    });
    c.on('kick', (e) => {
      this.event(e.room, `${e.nick} was kicked by ${e.by}${e.reason ? ` (${e.reason})` : ''}`);
      this.refreshMembers(e.room);
    });
    c.on('quit', (e) => {
      for (const room of e.rooms) this.event(room, `${e.nick} quit${e.reason ? ` (${e.reason})` : ''}`, true);
      this.refreshMembers(this.active);
    });
    c.on('nick', (e) => {
      for (const room of e.rooms) this.event(room, `${e.oldNick} is now ${e.newNick}`);
      if (e.isSelf) this.layout.root.querySelector('.me strong')!.textContent = e.newNick;
      this.refreshMembers(this.active);
    });
    c.on('topic', (e) => {
      if (e.isChange) this.event(e.room, `${e.setBy ?? 'someone'} set the topic: ${stripFormatting(e.topic)}`);
      if (this.isActive(e.room)) this.renderHeader();
    });
    c.on('names', (e) => {
      this.refreshMembers(e.room);
      // Our own prefix is known from NAMES: whether the topic is editable may have changed.
      if (this.isActive(e.room)) this.renderHeader();
    });
    c.on('mode', (e) => {
      this.refreshMembers(e.target);
      if (this.isActive(e.target)) this.renderHeader();
    });
    c.on('error', (e) => {
      if (this.active) this.event(this.active, `⚠ ${e.text}`);
    });
    c.on('readMarker', (e) => {
      // Read on another device: clear the counts if that covers the newest line.
      const conv = this.conversations.get(c.isupport.fold(e.target));
      if (conv && e.time && (!conv.readMarker || e.time > conv.readMarker)) conv.readMarker = e.time;
      const last = conv?.lines.at(-1);
      if (conv && e.time && last && e.time >= last.time) {
        conv.unread = 0;
        conv.mentions = 0;
        this.renderRooms();
      }
    });
    c.on('reconnecting', (e) => this.banner(`Connection lost — reconnecting (attempt ${e.attempt}) …`));
    c.on('disconnected', (e) => this.banner(e.willReconnect ? `Connection lost (${e.reason}) — reconnecting …` : `Disconnected: ${e.reason}. Reload the page to sign in again.`));
    c.on('connected', () => this.banner(null));
  }

  private pendingSelect: string | null = null;

  private live(message: ChatMessage): void {
    const c = this.client;
    const conv = this.conversation(message.conversation);
    const mention = !message.isOwn && mentions(stripFormatting(message.text), c.nick);
    const [line] = addLines(conv, [toLine(message, mention)]);
    if (!line) return;
    const visible = conv.name === this.active && !document.hidden;
    if (!message.isOwn && !visible) {
      conv.unread++;
      if (mention || !conv.isRoom) conv.mentions++;
    }
    if (conv.name === this.active) this.appendLine(line, conv.lines[conv.lines.indexOf(line) - 1]);
    this.renderRooms();
    if (!message.isOwn && (mention || !conv.isRoom)) {
      const where = conv.isRoom ? `${message.sender} in ${conv.name}` : message.sender;
      notify(where, stripFormatting(message.text), () => this.select(conv.name));
    }
    if (visible && c.account !== null) c.markRead(conv.name, message.time);
  }

  private event(room: string, text: string, membership = false): void {
    const conv = this.conversations.get(this.client.isupport.fold(room));
    if (!conv) return;
    const [line] = addLines(conv, [{ time: new Date(), sender: '', text, kind: 'event', isOwn: false, mention: false, ...(membership ? { membership } : {}) }]);
    if (line && conv.name === this.active) this.appendLine(line, conv.lines.at(-2));
  }

  private conversation(name: string): Conversation {
    const key = this.client.isupport.fold(name);
    let conv = this.conversations.get(key);
    if (!conv) {
      conv = newConversation(name, this.client.isupport.isRoom(name));
      this.conversations.set(key, conv);
      this.renderRooms();
    }
    return conv;
  }

  /** A renamed room keeps its log, unread counts and place, under the new name. */
  private renameConversation(from: string, to: string): void {
    const conv = this.conversations.get(this.client.isupport.fold(from));
    if (!conv) return;
    const wasActive = this.isActive(from);
    // Rebuilt in the same order, so the room stays where it was in the list.
    const entries = [...this.conversations].map(([key, c]): [string, Conversation] => (c === conv ? [this.client.isupport.fold(to), c] : [key, c]));
    this.conversations.clear();
    for (const [key, c] of entries) this.conversations.set(key, c);
    conv.name = to;
    if (wasActive) {
      this.active = to;
      this.renderHeader();
    }
    this.renderRooms();
  }

  private drop(name: string): void {
    const key = this.client.isupport.fold(name);
    this.conversations.delete(key);
    if (this.active && this.client.isupport.fold(this.active) === key) {
      this.active = null;
      const next = this.conversations.values().next().value;
      if (next) this.select(next.name);
      else this.renderActive();
    }
    this.renderRooms();
  }

  // ---- UI -> engine ----

  private wireUi(): void {
    const l = this.layout;
    l.composer.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    l.input.addEventListener('input', () => this.typing.input(this.active, l.input.value));
    attachComposerKeys(l.input, {
      nicks: () => {
        const room = this.active ? this.client.state.room(this.active) : undefined;
        return room ? [...room.members.values()].map((m) => m.nick).filter((nick) => nick !== this.client.nick) : this.active ? [this.active] : [];
      },
      fold: (name) => this.client.isupport.fold(name),
    });
    l.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.submit();
      }
    });
    l.openForm.addEventListener('submit', (e) => {
      e.preventDefault();
      const name = l.openInput.value.trim();
      if (!name) return;
      l.openInput.value = '';
      this.open(name);
    });
    l.log.addEventListener('scroll', () => {
      if (l.log.scrollTop < 40) void this.loadOlder();
    });
    l.toggleRooms.addEventListener('click', () => this.toggle('rooms-open', l.toggleRooms));
    l.toggleMembers.addEventListener('click', () => this.toggle('members-open', l.toggleMembers));
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && this.active) this.markSeen(this.active);
    });
  }

  private toggle(cls: string, button: HTMLButtonElement): void {
    const open = this.layout.root.classList.toggle(cls);
    button.setAttribute('aria-expanded', String(open));
  }

  private open(name: string): void {
    if (this.client.isupport.isRoom(name)) {
      this.pendingSelect = this.client.isupport.fold(name);
      const existing = this.conversations.get(this.pendingSelect);
      if (existing) this.select(existing.name);
      else this.client.join(name);
    } else {
      this.conversation(name);
      this.select(name);
    }
  }

  private submit(): void {
    const input = this.layout.input;
    const command = parseInput(input.value);
    input.value = '';
    this.typing.sent();
    if (!command) return;
    const c = this.client;
    const target = this.active;
    switch (command.kind) {
      case 'say':
        if (target) c.say(target, command.text);
        break;
      case 'me':
        if (target) c.action(target, command.text);
        break;
      case 'join':
        this.open(command.room);
        if (command.key) c.join(command.room, command.key);
        break;
      case 'part': {
        const room = command.room ?? target;
        if (room && c.isupport.isRoom(room)) c.part(room, command.reason);
        else if (room) this.drop(room);
        break;
      }
      case 'msg':
        c.say(command.target, command.text);
        this.conversation(command.target);
        break;
      case 'query':
        this.open(command.target);
        break;
      case 'nick':
        c.setNick(command.nick);
        break;
      case 'topic':
        if (target && c.isupport.isRoom(target)) c.setTopic(target, command.topic);
        break;
      case 'error':
        if (target) this.event(target, command.text);
        break;
    }
  }

  private async loadOlder(): Promise<void> {
    const conv = this.active ? this.conversations.get(this.client.isupport.fold(this.active)) : undefined;
    if (!conv || conv.loadingOlder || conv.noOlder) return;
    const oldest = conv.lines.find((line) => line.kind !== 'event');
    if (!oldest) return;
    conv.loadingOlder = true;
    try {
      const ref = oldest.msgid ? `msgid=${oldest.msgid}` : `timestamp=${oldest.time.toISOString()}`;
      const older = await this.client.before(conv.name, ref, OLDER_PAGE);
      const lines = older.map((m) => toLine(m, !m.isOwn && mentions(stripFormatting(m.text), this.client.nick))).filter((line) => !line.msgid || !conv.seen.has(line.msgid));
      if (lines.length === 0) {
        conv.noOlder = true;
        return;
      }
      for (const line of lines) if (line.msgid) conv.seen.add(line.msgid);
      conv.lines.unshift(...lines);
      if (conv.name === this.active) {
        const log = this.layout.log;
        const before = log.scrollHeight;
        prependLines(log, lines);
        log.scrollTop += log.scrollHeight - before;
      }
    } catch {
      conv.noOlder = true;
    } finally {
      conv.loadingOlder = false;
    }
  }

  // ---- rendering ----

  select(name: string): void {
    const conv = this.conversation(name);
    this.active = conv.name;
    this.pendingSelect = null;
    this.layout.root.classList.remove('rooms-open');
    const firstUnread = firstUnreadLine(conv.lines, conv.unread);
    this.markSeen(conv.name);
    this.renderActive(firstUnread);
  }

  private markSeen(name: string): void {
    const conv = this.conversations.get(this.client.isupport.fold(name));
    if (!conv) return;
    conv.unread = 0;
    conv.mentions = 0;
    const last = conv.lines.at(-1);
    if (last && last.kind !== 'event' && this.client.account !== null) this.client.markRead(conv.name, last.time);
    this.renderRooms();
  }

  private isActive(name: string): boolean {
    return this.active !== null && this.client.isupport.fold(this.active) === this.client.isupport.fold(name);
  }

  renderActive(firstUnread?: Line): void {
    const conv = this.active ? this.conversations.get(this.client.isupport.fold(this.active)) : undefined;
    renderLog(this.layout.log, conv?.lines ?? [], firstUnread);
    const marker = this.layout.log.querySelector('.new-messages');
    // Opened with unread messages: start at the first of them, else at the end.
    if (marker instanceof HTMLElement) marker.scrollIntoView({ block: 'start' });
    else this.layout.log.scrollTop = this.layout.log.scrollHeight;
    this.renderHeader();
    this.refreshMembers(this.active);
    this.renderRooms();
    this.renderTyping();
  }

  private renderTyping(): void {
    const nicks = this.active ? this.typing.who(this.active) : [];
    this.layout.typing.textContent =
      nicks.length === 0 ? '' : nicks.length === 1 ? `${nicks[0]} is typing…` : nicks.length <= 3 ? `${nicks.join(', ')} are typing…` : 'Several people are typing…';
  }

  private renderHeader(): void {
    const l = this.layout;
    l.title.textContent = this.active ?? 'No conversation — join a room';
    const room = this.active ? this.client.state.room(this.active) : undefined;
    l.topic.textContent = room ? stripFormatting(room.topic) || 'No topic' : this.active ? 'Direct messages' : '';
    const me = room?.members.get(this.client.isupport.fold(this.client.nick));
    // The server refuses non-ops on +t rooms (the default); only offer the editor to ops.
    if (room && me?.prefixes.includes('@')) {
      makeTopicEditable(l.topic, stripFormatting(room.topic), (text) => this.client.setTopic(room.name, text));
    } else makeTopicReadOnly(l.topic);
    l.composer.hidden = this.active === null;
  }

  private refreshMembers(room: string | null): void {
    if (!room || !this.isActive(room)) return;
    const state = this.client.state.room(room);
    renderMembers(this.layout.members, this.layout.membersHeading, state ? [...state.members.values()] : []);
  }

  private appendLine(line: Line, previous: Line | undefined): void {
    const log = this.layout.log;
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 60;
    appendLines(log, [line], previous);
    if (atBottom || line.isOwn) log.scrollTop = log.scrollHeight;
  }

  private renderRooms(): void {
    const list = [...this.conversations.values()].sort((a, b) => Number(b.isRoom) - Number(a.isRoom) || a.name.localeCompare(b.name));
    renderRooms(this.layout.rooms, list, this.active, (name) => this.select(name), (name) => {
      if (this.client.isupport.isRoom(name)) this.client.part(name);
      else this.drop(name);
    });
    setTitle(list.reduce((sum, conv) => sum + conv.unread, 0));
  }

  private banner(text: string | null): void {
    this.layout.banner.hidden = text === null;
    this.layout.banner.textContent = text ?? '';
  }

  /** For measurements: put `messages` into `name` through the normal history path and show it. */
  injectHistory(name: string, messages: ChatMessage[]): void {
    const conv = this.conversation(name);
    addLines(conv, messages.map((m) => toLine(m, false)));
    this.select(conv.name);
  }
}

/** The oldest of the last `unread` messages from others (events and own lines are not counted). */
function firstUnreadLine(lines: Line[], unread: number): Line | undefined {
  if (unread <= 0) return undefined;
  let counted = 0;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (line.kind === 'event' || line.isOwn) continue;
    if (++counted === unread) return line;
  }
  return undefined;
}
