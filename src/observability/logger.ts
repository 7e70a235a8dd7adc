import { pino, stdTimeFunctions, type DestinationStream, type Logger as Pino } from 'pino';
import { formatPretty } from './pretty.js';

/**
 * Structured logs: one JSON object per line on stderr (pino), or a human-readable line per
 * event on a terminal. Passed in, never global. The fields are a stable schema, listed in
 * docs/security.md "What is logged": `time` (ISO 8601), `level` (debug, info, warn, error),
 * `msg` (the event's name, a fixed string), then the event's own fields; an exception is `err`
 * ({ name, message, stack, code? }).
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'pretty';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface LoggerOptions {
  /** `auto`: pretty when writing to stderr and it is a terminal, else JSON. @default 'auto' */
  format?: LogFormat | 'auto';
  /**
   * Lines of one event (the same `msg`) written per second; the rest are counted and reported
   * once by a `log lines suppressed` line, so an attacker cannot fill the disk through the log.
   * @default 20
   */
  maxPerSecond?: number;
  /** The clock of that limit; tests inject one. */
  now?: () => number;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const DEFAULT_MAX_PER_SECOND = 20;
/** Distinct event names whose windows are remembered; more are forgotten (names are code constants). */
const MAX_EVENTS = 1000;

/**
 * `write` receives whole lines (with the newline); without it, lines go to stderr synchronously,
 * so the last ones (`stopped`) are out before the process exits.
 */
export function createLogger(level: LogLevel, write?: (line: string) => void, options: LoggerOptions = {}): Logger {
  const format = options.format === 'json' || options.format === 'pretty' ? options.format : write === undefined && process.stderr.isTTY ? 'pretty' : 'json';
  const colors = format === 'pretty' && write === undefined && process.stderr.isTTY === true;
  let destination: DestinationStream;
  if (write === undefined && format === 'json') destination = pino.destination({ dest: 2, sync: true });
  else {
    const out = write ?? ((line: string) => void process.stderr.write(line));
    destination = { write: format === 'pretty' ? (line) => out(formatPretty(line, colors)) : out };
  }
  const base = pino(
    {
      level,
      base: undefined,
      messageKey: 'msg',
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: serializeError },
    },
    destination,
  );
  const limiter = new RepeatLimiter(options.maxPerSecond ?? DEFAULT_MAX_PER_SECOND, options.now ?? Date.now, (event, suppressed, worst) =>
    base.warn({ event, suppressed, worst_level: worst }, 'log lines suppressed'),
  );
  const min = RANK[level];
  const method = (lvl: LogLevel): Logger[LogLevel] => {
    if (RANK[lvl] < min) return noop;
    return (msg, fields) => {
      if (!limiter.allow(msg, lvl)) return;
      base[lvl](fields ?? {}, msg);
    };
  };
  return { debug: method('debug'), info: method('info'), warn: method('warn'), error: method('error') };
}

/** A logger that drops everything, for tests and tools. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

function noop(): void {}

function serializeError(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const code = (value as { code?: unknown }).code;
  return { name: value.name, message: value.message, stack: value.stack, ...(code === undefined ? {} : { code }) };
}

/** One event's current second. */
interface EventWindow {
  start: number;
  written: number;
  suppressed: number;
  worst: LogLevel;
}

/**
 * At most `max` lines per event name per one-second window. What is held back is reported
 * when the event is next logged after its window, or by a timer a second after the first line
 * held back, whichever comes first; so a burst costs at most `max` + 1 lines a second per event.
 */
export class RepeatLimiter {
  private readonly windows = new Map<string, EventWindow>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly max: number,
    private readonly now: () => number,
    private readonly report: (event: string, suppressed: number, worst: LogLevel) => void,
  ) {}

  allow(event: string, level: LogLevel): boolean {
    const now = this.now();
    let window = this.windows.get(event);
    if (window === undefined || now - window.start >= 1000) {
      if (window !== undefined && window.suppressed > 0) this.report(event, window.suppressed, window.worst);
      if (window === undefined && this.windows.size >= MAX_EVENTS) this.forgetQuiet();
      window = { start: now, written: 0, suppressed: 0, worst: level };
      this.windows.set(event, window);
    }
    if (window.written < this.max) {
      window.written++;
      return true;
    }
    if (window.suppressed === 0 || RANK[level] > RANK[window.worst]) window.worst = level;
    window.suppressed++;
    this.timer ??= setTimeout(() => this.flush(), 1000).unref();
    return false;
  }

  /** Report every window that held lines back and has ended. */
  flush(): void {
    this.timer = null;
    const now = this.now();
    let pending = false;
    for (const [event, window] of this.windows) {
      if (window.suppressed === 0) continue;
      if (now - window.start < 1000) {
        pending = true;
        continue;
      }
      this.report(event, window.suppressed, window.worst);
      this.windows.delete(event);
    }
    if (pending) this.timer = setTimeout(() => this.flush(), 1000).unref();
  }

  private forgetQuiet(): void {
    for (const [event, window] of this.windows) if (window.suppressed === 0) this.windows.delete(event);
  }
}
