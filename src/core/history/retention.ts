import type { Config } from '../../config/schema.js';
import type { Logger } from '../../observability/logger.js';
import { foldCase } from '../../protocol/index.js';
import type { History } from './history.js';

const DAY_MS = 24 * 60 * 60 * 1000;

interface Limits {
  maxAgeDays: number;
  maxMessages: number;
}

/**
 * Retention: every `history.retention_sweep_minutes`, each conversation is pruned by age and by
 * count (0 = no limit), with per-room overrides from `history.rooms`. Direct messages use the
 * global limits. One timer for the server, unref'd so it never keeps the process alive.
 */
export class Retention {
  private readonly defaults: Limits;
  /** Overrides by folded room name (config keys are display names). */
  private readonly rooms = new Map<string, Partial<Limits>>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(
    private readonly history: History,
    config: Config['history'],
    private readonly logger: Logger,
  ) {
    this.defaults = { maxAgeDays: config.max_age_days, maxMessages: config.max_messages_per_conversation };
    for (const [name, o] of Object.entries(config.rooms)) {
      this.rooms.set(foldCase(name), { maxAgeDays: o.max_age_days, maxMessages: o.max_messages_per_conversation });
    }
    this.timer = setInterval(() => {
      this.sweep(Date.now()).catch((err: unknown) => this.logger.error('history retention sweep failed', { err }));
    }, config.retention_sweep_minutes * 60_000);
    this.timer.unref();
  }

  limitsFor(conversation: string): Limits {
    const o = this.rooms.get(conversation);
    return {
      maxAgeDays: o?.maxAgeDays ?? this.defaults.maxAgeDays,
      maxMessages: o?.maxMessages ?? this.defaults.maxMessages,
    };
  }

  /** One pass over every stored conversation; a sweep already running is joined, not doubled. */
  sweep(now: number): Promise<number> {
    this.running ??= this.run(now).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async run(now: number): Promise<number> {
    const store = await this.history.read();
    let deleted = 0;
    for (const conversation of await store.conversations()) {
      const { maxAgeDays, maxMessages } = this.limitsFor(conversation);
      if (maxAgeDays <= 0 && maxMessages <= 0) continue;
      deleted += await store.prune(conversation, {
        olderThan: maxAgeDays > 0 ? now - maxAgeDays * DAY_MS : undefined,
        keep: maxMessages > 0 ? maxMessages : undefined,
      });
    }
    if (deleted > 0) this.logger.info('history retention', { deleted });
    return deleted;
  }
}
