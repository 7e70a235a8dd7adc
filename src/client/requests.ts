/**
 * Requests that resolve with the server's reply. With labeled-response
 * (https://ircv3.net/specs/extensions/labeled-response) the reply is exactly the lines carrying
 * our label (one line, an ACK, or a labeled-response batch). Without it, the command is followed
 * by a PING and everything that arrives before its PONG is the reply: close, but unrelated
 * traffic in between is included.
 */
import { parseMessage, serializeMessage, type IrcMessage } from '../protocol/index.js';
import type { Batch, Batches } from './batches.js';
import type { HistoryBatch } from './events.js';

export type RequestPurpose = HistoryBatch['reason'];

interface Pending {
  resolve: (messages: IrcMessage[]) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
  purpose: RequestPurpose | undefined;
  /** Fallback mode: the PING token that ends the reply, and what came before it. */
  token?: string;
  collected?: IrcMessage[];
}

const PING_PREFIX = 'parley-req-';

export class Requests {
  private counter = 0;
  private readonly byLabel = new Map<string, Pending>();
  private readonly byBatch = new Map<string, Pending>();
  private readonly unlabeled: Pending[] = [];

  constructor(private readonly batches: Batches) {}

  /** Send `line` (without CR LF); resolves with the reply lines. */
  start(line: string, send: (line: string) => void, labeled: boolean, timeoutMs: number, purpose?: RequestPurpose): Promise<IrcMessage[]> {
    const parsed = parseMessage(line);
    if (!parsed) return Promise.reject(new Error('empty request'));
    const id = `${++this.counter}`;
    return new Promise<IrcMessage[]>((resolve, reject) => {
      const pending: Pending = {
        resolve,
        reject,
        purpose,
        timer: setTimeout(() => this.settle(pending, new Error(`no reply to ${parsed.command} in time`)), timeoutMs),
      };
      if (labeled) {
        this.byLabel.set(id, pending);
        send(serializeMessage({ ...parsed, tags: { ...parsed.tags, label: id } }).slice(0, -2));
      } else {
        pending.token = PING_PREFIX + id;
        pending.collected = [];
        this.unlabeled.push(pending);
        send(line);
        send(`PING ${pending.token}`);
      }
    });
  }

  /** Called for every line that is not a BATCH line, after it was handled. */
  observe(message: IrcMessage): void {
    const label = message.tags?.label;
    const pending = label === undefined ? undefined : this.byLabel.get(label);
    if (pending) {
      this.settle(pending, message.command === 'ACK' ? [] : [message]);
      return;
    }
    if (this.unlabeled.length === 0) return;
    if (message.command === 'PONG' && message.params.at(-1)?.startsWith(PING_PREFIX)) {
      const done = this.unlabeled.find((p) => p.token === message.params.at(-1));
      if (done) this.settle(done, done.collected!);
      return;
    }
    for (const p of this.unlabeled) p.collected!.push(message);
  }

  batchStarted(batch: Batch): void {
    const label = batch.tags.label;
    const pending = label === undefined ? undefined : this.byLabel.get(label);
    if (batch.type === 'labeled-response' && pending) {
      this.byLabel.delete(label!);
      this.byBatch.set(batch.id, pending);
    }
  }

  batchEnded(batch: Batch): void {
    const pending = this.byBatch.get(batch.id);
    if (pending) this.settle(pending, batch.messages);
  }

  /** Why the history in `batch` was asked for, if a request of ours asked for it. */
  purposeOf(batch: Batch): RequestPurpose | undefined {
    const labeled = this.batches.enclosing(batch, 'labeled-response');
    if (labeled) return this.byBatch.get(labeled.id)?.purpose;
    return this.unlabeled.find((p) => p.purpose !== undefined)?.purpose;
  }

  /** The connection ended: every pending request fails. */
  failAll(error: Error): void {
    for (const pending of [...this.byLabel.values(), ...this.byBatch.values(), ...this.unlabeled]) this.settle(pending, error);
  }

  private settle(pending: Pending, result: IrcMessage[] | Error): void {
    clearTimeout(pending.timer);
    for (const [key, p] of this.byLabel) if (p === pending) this.byLabel.delete(key);
    for (const [key, p] of this.byBatch) if (p === pending) this.byBatch.delete(key);
    const index = this.unlabeled.indexOf(pending);
    if (index !== -1) this.unlabeled.splice(index, 1);
    if (result instanceof Error) pending.reject(result);
    else pending.resolve(result);
  }
}
