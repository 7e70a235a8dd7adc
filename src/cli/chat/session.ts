/**
 * One chat session: the engine's events become lines in windows, the current window is printed,
 * and the prompt shows where you are and what is unread elsewhere.
 */
import type { IrcClient } from '../../client/client.js';
import type { ChatMessage } from '../../client/events.js';
import { stripFormatting } from '../../client/formatting.js';
import { encode, SGR, type Piece } from './ansi.js';
import { mentions, renderDivider, renderEvent, renderMessage, type Entry, type EventKind } from './render.js';
import type { Terminal } from './terminal.js';
import { Windows, type ChatWindow } from './windows.js';
import { wrapPieces } from './wrap.js';

export class ChatSession {
  readonly windows: Windows;
  /** Rooms to switch to once joined (the first room, and those joined with /join). */
  readonly switchOnJoin = new Set<string>();
  quitting = false;

  constructor(
    readonly client: IrcClient,
    readonly terminal: Terminal,
    private readonly finished: () => void,
  ) {
    this.windows = new Windows((name) => client.isupport.fold(name));
  }

  fold(name: string): string {
    return this.client.isupport.fold(name);
  }

  isRoom(name: string): boolean {
    return this.client.isupport.isRoom(name);
  }

  /** Print an entry wrapped to the terminal's width. */
  printEntry(entry: Entry): void {
    const lines = wrapPieces(entry.pieces, this.terminal.columns, entry.indent);
    this.terminal.print(lines.map(encode).join('\n'));
  }

  /** Add a line to a window; print it if that window is in view. */
  show(win: ChatWindow, entry: Entry, options: { counts?: boolean; highlight?: boolean; time?: Date } = {}): void {
    const visible = this.windows.add(win, entry, { counts: options.counts ?? false, highlight: options.highlight ?? false, time: options.time });
    if (visible) this.printEntry(entry);
    else if (options.counts || options.highlight) this.updatePrompt();
  }

  /** A line for whatever is in view (server replies, errors, notices to us). */
  showHere(kind: EventKind, text: string, time?: Date): void {
    const entry = renderEvent(kind, text, time);
    const win = this.windows.current;
    if (win) this.show(win, entry);
    else this.printEntry(entry);
  }

  /** A message or notice from the engine (live or catch-up). */
  showMessage(win: ChatWindow, message: ChatMessage, live: boolean): void {
    const direct = !this.isRoom(message.conversation) && message.command === 'PRIVMSG';
    const mention = !message.isOwn && mentions(message.text, this.client.nick);
    const alert = live && !message.isOwn && (mention || direct);
    const inView = win === this.windows.current;
    this.show(win, renderMessage(message, { mention }), { counts: !message.isOwn, highlight: alert, time: message.time });
    if (!alert) return;
    this.terminal.bell();
    // Out of view: say so where the user is looking, with the key that gets there.
    if (!inView) {
      const n = this.windows.numberOf(win);
      const where = direct ? `${message.sender} (direct)` : `${message.sender} in ${win.name}`;
      this.showHere('notice', `${where}: ${stripFormatting(message.text).slice(0, 200)}  [Alt+${n % 10} or /switch ${n}]`, message.time);
    }
  }

  showHistory(win: ChatWindow, messages: ChatMessage[], title: string, counts: boolean): void {
    this.show(win, renderDivider(title));
    for (const message of messages) {
      const mention = !message.isOwn && mentions(message.text, this.client.nick);
      this.show(win, renderMessage(message, { mention }), { counts: counts && !message.isOwn, time: message.time });
    }
  }

  switchTo(win: ChatWindow): void {
    const previous = this.windows.current;
    this.windows.switchTo(win);
    if (previous !== win) {
      // Enough of the window's recent lines to fill the screen.
      const recent = win.lines.slice(-Math.max(this.terminal.rows - 3, 5));
      this.printEntry(renderDivider(`${this.windows.numberOf(win)} ${win.name}`));
      for (const entry of recent) this.printEntry(entry);
    }
    if (win.lastTime && this.client.account) this.client.markRead(win.name, win.lastTime);
    this.updatePrompt();
  }

  /** `[#lobby] 2:#dev(3) 3:bob(1) alice› `: here, unread elsewhere (mentions bold yellow), who you are. */
  updatePrompt(): void {
    const current = this.windows.current;
    const pieces: Piece[] = [{ text: `[${current?.name ?? 'no room'}]`, sgr: SGR.bold }];
    for (const win of this.windows.list) {
      if (win === current || (win.unread === 0 && !win.highlighted)) continue;
      pieces.push({ text: ` ${this.windows.numberOf(win)}:${win.name}(${win.unread})`, sgr: win.highlighted ? SGR.boldYellow : SGR.cyan });
    }
    if (this.client.status !== 'ready') pieces.push({ text: ' offline', sgr: SGR.boldRed });
    else if (this.client.away !== null) pieces.push({ text: ' away', sgr: SGR.yellow });
    pieces.push({ text: ` ${this.client.nick}› `, sgr: '' });
    this.terminal.setPrompt(encode(pieces));
  }

  /** Sign off: QUIT, show the server's goodbye, end. */
  async quit(reason?: string): Promise<void> {
    if (this.quitting) return;
    this.quitting = true;
    const current = this.windows.current;
    if (current?.lastTime && this.client.account) this.client.markRead(current.name, current.lastTime);
    if (this.client.connected) this.showHere('info', 'Signing off…');
    await this.client.quit(reason ?? 'Leaving');
    this.terminal.close();
    this.finished();
  }

  /** Tab: commands after a leading /, else nicks in this room and window names. */
  complete(line: string): [string[], string] {
    const word = line.slice(line.lastIndexOf(' ') + 1);
    if (word === '') return [[], word];
    let candidates: string[];
    if (line === word && word.startsWith('/')) {
      candidates = ['/join', '/part', '/msg', '/query', '/me', '/nick', '/topic', '/names', '/who', '/whois', '/list', '/away', '/switch', '/windows', '/close', '/login', '/register', '/quote', '/quit', '/help'];
    } else {
      const room = this.windows.current ? this.client.state.room(this.windows.current.name) : undefined;
      const nicks = room ? [...room.members.values()].map((m) => m.nick) : [];
      candidates = [...nicks, ...this.windows.list.map((w) => w.name)];
    }
    const folded = this.fold(word);
    const hits = candidates.filter((c) => this.fold(c).startsWith(folded));
    // A nick first on the line is being addressed: "bob: ".
    if (line === word && hits.length === 1 && !word.startsWith('/') && !this.isRoom(hits[0]!)) return [[`${hits[0]}: `], word];
    return [hits, word];
  }
}
