/**
 * The rooms the user wants to be in, kept across reconnects, and the history fetched on
 * joining: the latest messages the first time, what was missed (CHATHISTORY AFTER the last
 * message seen) when coming back.
 */
import type { IrcClient } from './client.js';

/** Catch-up asks page after page, but not forever: past this, the rest is left out. */
const MAX_CATCH_UP_PAGES = 5;
const MAX_JOIN_LINE = 400;

export class RoomKeeper {
  private readonly wanted = new Map<string, { name: string; key?: string }>();
  /** Rooms joined on an earlier connection: joining them again is a return, not a first visit. */
  private readonly visited = new Set<string>();

  constructor(private readonly client: IrcClient) {}

  want(name: string, key?: string): void {
    this.wanted.set(this.client.isupport.fold(name), key ? { name, key } : { name });
  }

  forget(name: string): void {
    this.wanted.delete(this.client.isupport.fold(name));
    this.visited.delete(this.client.isupport.fold(name));
  }

  /** A wanted room was renamed: rejoin it under the new name, as a return (its history is the same). */
  rename(oldName: string, newName: string): void {
    const from = this.client.isupport.fold(oldName);
    const to = this.client.isupport.fold(newName);
    const wanted = this.wanted.get(from);
    if (wanted) {
      this.wanted.delete(from);
      this.wanted.set(to, { ...wanted, name: newName });
    }
    if (this.visited.delete(from)) this.visited.add(to);
  }

  names(): string[] {
    return [...this.wanted.values()].map((room) => room.name);
  }

  /** JOIN every wanted room, in as few lines as fit; rooms with keys get a line each. */
  joinAll(): void {
    let batch: string[] = [];
    const flush = () => {
      if (batch.length > 0) this.client.sendMessage({ command: 'JOIN', params: [batch.join(',')] });
      batch = [];
    };
    for (const { name, key } of this.wanted.values()) {
      if (key) {
        this.client.sendMessage({ command: 'JOIN', params: [name, key] });
        continue;
      }
      if (batch.join(',').length + name.length + 1 > MAX_JOIN_LINE) flush();
      batch.push(name);
    }
    flush();
  }

  /** Our JOIN came back: remember the room and fetch its history (servers without chathistory replay it themselves). */
  joined(room: string): void {
    const key = this.client.isupport.fold(room);
    if (!this.wanted.has(key)) this.wanted.set(key, { name: room });
    const returning = this.visited.has(key);
    this.visited.add(key);
    if (!this.client.caps.has('draft/chathistory')) return;
    void this.catchUp(room, returning).catch(() => {});
  }

  /** Direct conversations seen before a reconnect: their history is per account, so only when logged in. */
  async catchUpDirect(): Promise<void> {
    const client = this.client;
    if (!client.caps.has('draft/chathistory') || client.account === null) return;
    for (const key of client.tracker.keys()) {
      if (client.isupport.isRoom(key)) continue;
      await this.catchUp(key, true).catch(() => {});
    }
  }

  /**
   * After the last message seen (page by page), or the latest ones when none was seen. When
   * `returning`, whatever comes was missed while away (already-seen lines are dropped by msgid).
   */
  private async catchUp(target: string, returning: boolean): Promise<void> {
    const client = this.client;
    const key = client.isupport.fold(target);
    const { joinLimit, catchUpLimit } = this.limits();
    let ref = client.tracker.reference(key, client.isupport.msgRefTypes);
    if (ref === null) {
      await client.fetchHistory('LATEST', target, '*', joinLimit, returning ? 'catch-up' : 'join');
      return;
    }
    for (let page = 0; page < MAX_CATCH_UP_PAGES; page++) {
      const got = await client.fetchHistory('AFTER', target, ref, catchUpLimit, 'catch-up');
      if (got.length < catchUpLimit) return;
      ref = client.tracker.reference(key, client.isupport.msgRefTypes);
      if (ref === null) return;
    }
  }

  private limits(): { joinLimit: number; catchUpLimit: number } {
    const max = this.client.isupport.chathistoryLimit || 50;
    const wanted = this.client.options.history ?? {};
    return { joinLimit: Math.min(wanted.joinLimit ?? 50, max), catchUpLimit: Math.min(wanted.catchUpLimit ?? 100, max) };
  }
}
