/**
 * IRCv3 batches (https://ircv3.net/specs/extensions/batch): lines tagged `batch=<id>` are
 * gathered between `BATCH +id type ...` and `BATCH -id`. A line in a nested batch is added to
 * every enclosing batch too, so a labeled-response batch holds all of its reply.
 */
import type { IrcMessage } from '../protocol/index.js';

export interface Batch {
  id: string;
  type: string;
  params: string[];
  /** Tags of the `BATCH +id` line (a labeled-response batch carries the label there). */
  tags: Record<string, string>;
  parent: string | null;
  messages: IrcMessage[];
}

// A server that opens batches and never closes them must not make us grow without bound.
const MAX_OPEN = 64;
const MAX_MESSAGES = 10_000;

export class Batches {
  private readonly open = new Map<string, Batch>();

  /** `BATCH +id`: returns the new batch. `BATCH -id`: returns the finished one. */
  handle(message: IrcMessage): { started?: Batch; ended?: Batch } {
    const ref = message.params[0] ?? '';
    const id = ref.slice(1);
    if (id === '') return {};
    if (ref.startsWith('+')) {
      if (this.open.size >= MAX_OPEN) this.open.delete(this.open.keys().next().value!);
      const parent = message.tags?.batch;
      const batch: Batch = {
        id,
        type: message.params[1] ?? '',
        params: message.params.slice(2),
        tags: message.tags ?? {},
        parent: parent !== undefined && this.open.has(parent) ? parent : null,
        messages: [],
      };
      this.open.set(id, batch);
      return { started: batch };
    }
    if (ref.startsWith('-')) {
      const batch = this.open.get(id);
      this.open.delete(id);
      return batch ? { ended: batch } : {};
    }
    return {};
  }

  /**
   * The open batch a line belongs to, if any; the line is recorded in it and its ancestors. A
   * line of a multiline batch stays in that batch: the ancestors get the joined message instead
   * (multiline.ts), added when the batch ends.
   */
  add(message: IrcMessage): Batch | undefined {
    const id = message.tags?.batch;
    const batch = id === undefined ? undefined : this.open.get(id);
    for (let b = batch; b; b = b.parent === null ? undefined : this.open.get(b.parent)) {
      if (b.messages.length < MAX_MESSAGES) b.messages.push(message);
      if (b.type === 'draft/multiline') break;
    }
    return batch;
  }

  /** The batch itself or its nearest ancestor of `type`. */
  enclosing(batch: Batch | undefined, type: string): Batch | undefined {
    for (let b = batch; b; b = b.parent === null ? undefined : this.open.get(b.parent)) {
      if (b.type === type) return b;
    }
    return undefined;
  }

  get(id: string | undefined): Batch | undefined {
    return id === undefined ? undefined : this.open.get(id);
  }

  clear(): void {
    this.open.clear();
  }
}
