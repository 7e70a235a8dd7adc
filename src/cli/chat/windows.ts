/**
 * Windows: one per room or direct conversation, numbered in the order they opened. Only the
 * current one is printed; the others keep their lines and count what arrived unseen.
 */
import { foldName } from '../../client/isupport.js';
import type { Entry } from './render.js';

const KEPT_LINES = 1000;

export interface ChatWindow {
  name: string;
  isRoom: boolean;
  lines: Entry[];
  unread: number;
  /** A mention or a direct message arrived unseen. */
  highlighted: boolean;
  /** Newest message time shown, for read markers. */
  lastTime: Date | null;
}

export class Windows {
  readonly list: ChatWindow[] = [];
  private currentIndex = -1;

  constructor(private readonly fold: (name: string) => string = (n) => foldName(n, 'ascii')) {}

  get current(): ChatWindow | undefined {
    return this.list[this.currentIndex];
  }

  find(name: string): ChatWindow | undefined {
    const key = this.fold(name);
    return this.list.find((w) => this.fold(w.name) === key);
  }

  /** The window for `name`, opened (at the end) if there is none. The first window opened becomes current. */
  open(name: string, isRoom: boolean): ChatWindow {
    const found = this.find(name);
    if (found) return found;
    const win: ChatWindow = { name, isRoom, lines: [], unread: 0, highlighted: false, lastTime: null };
    this.list.push(win);
    if (this.currentIndex === -1) this.currentIndex = 0;
    return win;
  }

  /** Close a window; the current one moves to its left neighbour. */
  close(name: string): void {
    const index = this.list.findIndex((w) => this.fold(w.name) === this.fold(name));
    if (index === -1) return;
    this.list.splice(index, 1);
    if (this.currentIndex >= index) this.currentIndex = Math.max(0, this.currentIndex - 1);
    if (this.list.length === 0) this.currentIndex = -1;
  }

  rename(oldName: string, newName: string): void {
    const win = this.find(oldName);
    if (win) win.name = newName;
  }

  /** `2`, `#dev`, `dev` or a unique prefix of a name. */
  resolve(to: string): ChatWindow | undefined {
    if (/^\d+$/.test(to)) return this.list[Number(to) - 1];
    const exact = this.find(to) ?? this.find(`#${to}`);
    if (exact) return exact;
    const prefix = this.fold(to.replace(/^#/, ''));
    const matches = this.list.filter((w) => this.fold(w.name.replace(/^#/, '')).startsWith(prefix));
    return matches.length === 1 ? matches[0] : undefined;
  }

  switchTo(win: ChatWindow): void {
    this.currentIndex = this.list.indexOf(win);
    win.unread = 0;
    win.highlighted = false;
  }

  numberOf(win: ChatWindow): number {
    return this.list.indexOf(win) + 1;
  }

  /** Keep a line; true if it belongs to the window in view (so it should be printed now). */
  add(win: ChatWindow, entry: Entry, options: { counts: boolean; highlight: boolean; time?: Date }): boolean {
    win.lines.push(entry);
    if (win.lines.length > KEPT_LINES) win.lines.splice(0, win.lines.length - KEPT_LINES);
    if (options.time && (!win.lastTime || options.time > win.lastTime)) win.lastTime = options.time;
    if (win === this.current) return true;
    if (options.counts) win.unread++;
    if (options.highlight) win.highlighted = true;
    return false;
  }
}
