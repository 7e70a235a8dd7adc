/**
 * What we have seen of each conversation, so a reconnect can ask for exactly what was missed
 * (CHATHISTORY AFTER the last msgid or time) and drop replayed lines we already showed.
 */
import type { ChatMessage } from './events.js';

const REMEMBERED_IDS = 5000;

export interface SeenPoint {
  msgid?: string;
  time: Date;
}

export class HistoryTracker {
  private readonly last = new Map<string, SeenPoint>();
  private readonly ids = new Set<string>();

  /** Record a message; false if its msgid was seen before (a duplicate to drop). */
  see(key: string, message: ChatMessage): boolean {
    if (message.msgid !== undefined) {
      if (this.ids.has(message.msgid)) return false;
      this.ids.add(message.msgid);
      // Sets keep insertion order: the first is the oldest.
      if (this.ids.size > REMEMBERED_IDS) this.ids.delete(this.ids.values().next().value!);
    }
    const previous = this.last.get(key);
    if (!previous || message.time >= previous.time) {
      const point: SeenPoint = { time: message.time };
      if (message.msgid !== undefined) point.msgid = message.msgid;
      this.last.set(key, point);
    }
    return true;
  }

  lastSeen(key: string): SeenPoint | undefined {
    return this.last.get(key);
  }

  /** Conversations with something seen, by key. */
  keys(): string[] {
    return [...this.last.keys()];
  }

  forget(key: string): void {
    this.last.delete(key);
  }

  /** A conversation's key changed (a renamed room): what was seen in it stays seen. */
  rename(from: string, to: string): void {
    const point = this.last.get(from);
    if (!point) return;
    this.last.delete(from);
    this.last.set(to, point);
  }

  /** A CHATHISTORY reference to the last message seen, in a form the server accepts, or null. */
  reference(key: string, refTypes: string[]): string | null {
    const point = this.last.get(key);
    if (!point) return null;
    // No MSGREFTYPES token: msgid is the spec's default and the one every server takes.
    if (point.msgid !== undefined && (refTypes.length === 0 || refTypes.includes('msgid'))) return `msgid=${point.msgid}`;
    if (refTypes.length === 0 || refTypes.includes('timestamp')) return `timestamp=${point.time.toISOString()}`;
    return null;
  }
}
