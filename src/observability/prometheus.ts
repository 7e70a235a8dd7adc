import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ServerMetrics } from './metrics.js';

/** What is read at scrape time instead of being counted: app.ts wires it to the server. */
export interface MetricsSource {
  /** Open client connections by transport (tcp, tls, ws, wss). */
  connections(): Record<string, number>;
  /** Sessions that completed IRC registration. */
  registeredUsers(): number;
  rooms(): number;
  /** True while the history store cannot commit. */
  storeFailing(): boolean;
  /** The cluster as this node sees it. @default a live node with nothing behind */
  cluster?(): ClusterReading;
}

/** What the cluster gauges read at scrape time. */
export interface ClusterReading {
  /** The node's lease is lost for good. */
  fenced: boolean;
  /** Bus.lag(): sequences known in the followed logs and not delivered yet. */
  lag: { max: number; total: number };
  /** Room messages of other nodes held until their `stored` notice (or behind one), core/room-log.ts. */
  heldRoomMessages: number;
}

export interface MetricsOptions {
  version: string;
  /** The server's name (server.name), the `node` label of parley_info. */
  node: string;
  /** This process's node id in the cluster, the `node` label of parley_cluster_node_info. */
  clusterNode?: string;
  /** Node.js process metrics (heap, RSS, event-loop delay, GC, handles). @default true */
  processMetrics?: boolean;
}

/** Most distinct command names kept as labels; past it (a bug in a caller) they count as `other`. */
const MAX_COMMAND_LABELS = 100;
const TRANSPORTS = ['tcp', 'tls', 'ws', 'wss'] as const;
const CHAT_COMMANDS = ['PRIVMSG', 'NOTICE', 'TAGMSG'] as const;
/** Why a follower skipped sequences (cluster/events.ts Delivery `gap`); others count as `other`. */
const GAP_REASONS = ['trimmed', 'restarted', 'rewound'] as const;

/** Counts of one command name. */
interface CommandCount {
  calls: number;
  errors: number;
}

/**
 * The Prometheus metrics of one server (prom-client, its own Registry: nothing global). The
 * counters the hot path touches are plain numbers here, turned into samples only when
 * /metrics is scraped (each `collect` below), so counting costs an addition. Rare events
 * (logins, HTTP, commits) go to prom-client directly.
 */
export class Metrics implements ServerMetrics {
  readonly registry = new Registry();
  private source: MetricsSource | null = null;

  private accepted = 0;
  private refused = 0;
  private closed = 0;
  private inBytes = 0;
  private outBytes = 0;
  private messagesOut = 0;
  private deliveries = 0;
  private sendqDrops = 0;
  private floodDisconnects = 0;
  private readonly messagesIn: Record<(typeof CHAT_COMMANDS)[number], number> = { PRIVMSG: 0, NOTICE: 0, TAGMSG: 0 };
  private readonly commands = new Map<string, CommandCount>();
  private readonly otherCommand: CommandCount = { calls: 0, errors: 0 };
  private readonly gaps: Record<(typeof GAP_REASONS)[number] | 'other', number> = { trimmed: 0, restarted: 0, rewound: 0, other: 0 };
  private reaps = 0;
  private reapedUsers = 0;
  private readonly publishSeconds: Histogram;

  private readonly logins: Counter<'mechanism'>;
  private readonly loginFailures: Counter<'mechanism'>;
  private readonly loginsThrottled: Counter<'mechanism'>;
  private readonly historyBatch: Histogram;
  private readonly historyCommitSeconds: Histogram;
  private readonly storeQuerySeconds: Histogram<'operation'>;
  private readonly httpRequests: Counter<'route' | 'status'>;

  constructor(options: MetricsOptions) {
    const registers = [this.registry];
    const self = this;
    const plain = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });

    // Aggregators say how `parley serve --workers` adds its workers' samples up (prom-client's
    // AggregatorRegistry; the default is the sum, right for counts and counters).
    new Gauge({ name: 'parley_info', help: 'Version and name of this server (always 1)', labelNames: ['version', 'node'], registers, aggregator: 'max' }).set(
      { version: options.version, node: options.node },
      1,
    );
    new Gauge({
      name: 'parley_connections',
      help: 'Open client connections by transport',
      labelNames: ['transport'],
      registers,
      collect() {
        const open = self.source?.connections() ?? {};
        for (const transport of new Set([...TRANSPORTS, ...Object.keys(open)])) this.set({ transport }, open[transport] ?? 0);
      },
    });
    new Gauge({
      name: 'parley_registered_users',
      help: 'Connected sessions that completed IRC registration',
      registers,
      collect() {
        this.set(self.source?.registeredUsers() ?? 0);
      },
    });
    new Gauge({
      name: 'parley_rooms',
      help: 'Rooms that exist (have members)',
      registers,
      collect() {
        this.set(self.source?.rooms() ?? 0);
      },
    });
    new Gauge({
      name: 'parley_history_store_failing',
      help: '1 while the history store cannot commit (messages are refused), else 0',
      registers,
      aggregator: 'max',
      collect() {
        this.set(self.source?.storeFailing() ? 1 : 0);
      },
    });
    plain('parley_connections_accepted_total', 'Client connections attached to a session', () => this.accepted);
    plain('parley_connections_refused_total', 'Client connections refused at admission (D-lines, per-address limits)', () => this.refused);
    plain('parley_connections_closed_total', 'Client sessions ended', () => this.closed);
    plain('parley_bytes_in_total', 'Bytes read from client connections (after TLS, without WebSocket framing)', () => this.inBytes);
    plain('parley_bytes_out_total', 'Bytes written to client connections (after TLS, without WebSocket framing)', () => this.outBytes);
    new Counter({
      name: 'parley_messages_in_total',
      help: 'PRIVMSG, NOTICE and TAGMSG lines received from clients',
      labelNames: ['command'],
      registers,
      collect() {
        this.reset();
        for (const command of CHAT_COMMANDS) this.inc({ command }, self.messagesIn[command]);
      },
    });
    plain('parley_messages_out_total', 'Messages relayed, one per target (room or user)', () => this.messagesOut);
    plain('parley_deliveries_total', 'Copies of relayed messages handed to recipients', () => this.deliveries);
    plain('parley_sendq_drops_total', 'Sessions dropped for exceeding their SendQ', () => this.sendqDrops);
    plain('parley_flood_disconnects_total', 'Sessions disconnected for flooding (Excess flood)', () => this.floodDisconnects);
    const perCommand = (name: string, help: string, read: (c: CommandCount) => number) =>
      new Counter({
        name,
        help,
        labelNames: ['command'],
        registers,
        collect() {
          this.reset();
          for (const [command, count] of self.commands) this.inc({ command }, read(count));
          this.inc({ command: 'other' }, read(self.otherCommand));
        },
      });
    perCommand('parley_commands_total', 'Client lines dispatched, by command (unknown ones as other)', (c) => c.calls);
    perCommand('parley_command_errors_total', 'Commands answered with an error reply, by command', (c) => c.errors);

    this.logins = new Counter({ name: 'parley_logins_total', help: 'Successful logins by mechanism', labelNames: ['mechanism'], registers });
    this.loginFailures = new Counter({
      name: 'parley_login_failures_total',
      help: 'Failed logins by mechanism: wrong password or unknown account (throttled attempts are counted apart)',
      labelNames: ['mechanism'],
      registers,
    });
    this.loginsThrottled = new Counter({
      name: 'parley_logins_throttled_total',
      help: 'Login attempts refused by the failed-login throttle, by mechanism',
      labelNames: ['mechanism'],
      registers,
    });
    this.historyBatch = new Histogram({
      name: 'parley_history_write_batch_size',
      help: 'Messages per history commit',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000],
      registers,
    });
    this.historyCommitSeconds = new Histogram({
      name: 'parley_history_commit_seconds',
      help: 'Time to commit one history batch',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.storeQuerySeconds = new Histogram({
      name: 'parley_store_query_seconds',
      help: 'History queries (CHATHISTORY) by operation',
      labelNames: ['operation'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.httpRequests = new Counter({
      name: 'parley_http_requests_total',
      help: 'HTTP requests by route and status (WebSocket upgrades not included)',
      labelNames: ['route', 'status'],
      registers,
    });
    this.publishSeconds = this.clusterMetrics(options, registers);
    // Heap, RSS, event-loop delay (parley_nodejs_eventloop_lag_*), GC, handles, CPU.
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'parley_' });
  }

  /** The cluster's metrics (docs/operations.md lists them); returns the publish histogram. */
  private clusterMetrics(options: MetricsOptions, registers: Registry[]): Histogram {
    const self = this;
    const reading = (): ClusterReading => self.source?.cluster?.() ?? { fenced: false, lag: { max: 0, total: 0 }, heldRoomMessages: 0 };
    if (options.clusterNode !== undefined) {
      new Gauge({ name: 'parley_cluster_node_info', help: 'This process\'s node id in the cluster (always 1; one series per worker of --workers)', labelNames: ['node'], registers }).set(
        { node: options.clusterNode },
        1,
      );
    }
    new Gauge({
      name: 'parley_cluster_fenced',
      help: '1 once this node lost its lease for good (it admits no one), else 0',
      registers,
      aggregator: 'max',
      collect() {
        this.set(reading().fenced ? 1 : 0);
      },
    });
    new Gauge({
      name: 'parley_cluster_bus_lag_max',
      help: 'Largest number of log entries one followed log (room or inbox) is known to have and has not delivered',
      registers,
      aggregator: 'max',
      collect() {
        this.set(reading().lag.max);
      },
    });
    new Gauge({
      name: 'parley_cluster_bus_lag',
      help: 'Log entries the followed logs are known to have and this node has not delivered, summed',
      registers,
      collect() {
        this.set(reading().lag.total);
      },
    });
    new Gauge({
      name: 'parley_cluster_held_room_messages',
      help: 'Room messages from other nodes held until their stored notice (or behind one)',
      registers,
      collect() {
        this.set(reading().heldRoomMessages);
      },
    });
    new Counter({
      name: 'parley_cluster_gaps_total',
      help: 'Gaps delivered by the bus, by reason (trimmed: behind the stream cap; restarted: the log began again; rewound: Redis came back older)',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        for (const [reason, count] of Object.entries(self.gaps)) this.inc({ reason }, count);
      },
    });
    new Counter({
      name: 'parley_cluster_reaps_total',
      help: 'Dead nodes this node reaped (their users removed, their QUITs sequenced)',
      registers,
      collect() {
        this.reset();
        this.inc(self.reaps);
      },
    });
    new Counter({
      name: 'parley_cluster_reaped_users_total',
      help: 'Users of dead nodes this node reaped',
      registers,
      collect() {
        this.reset();
        this.inc(self.reapedUsers);
      },
    });
    return new Histogram({
      name: 'parley_cluster_publish_seconds',
      help: 'Time from publishing an event into a room log to its stamp (one Redis round trip, pipelined)',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
  }

  /** A follower skipped sequences (a `gap` delivery). */
  clusterGap(reason: string): void {
    this.gaps[(GAP_REASONS as readonly string[]).includes(reason) ? (reason as (typeof GAP_REASONS)[number]) : 'other']++;
  }

  /** This node finished reaping a dead node with `users` users (the last `reaped` batch). */
  clusterReaped(users: number): void {
    this.reapedUsers += users;
  }

  /** This node finished reaping one dead node. */
  clusterReapDone(): void {
    this.reaps++;
  }

  /** A publish into a room log was answered after `seconds`. */
  clusterPublished(seconds: number): void {
    this.publishSeconds.observe(seconds);
  }

  /** Where the gauges are read from (app.ts, once the server exists). */
  setSource(source: MetricsSource): void {
    this.source = source;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text exposition format (version 0.0.4), for GET /metrics. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** Connection counts since start, for the per-minute log summary. */
  connectionTotals(): { accepted: number; refused: number; closed: number } {
    return { accepted: this.accepted, refused: this.refused, closed: this.closed };
  }

  connectionAccepted(): void {
    this.accepted++;
  }

  connectionRefused(): void {
    this.refused++;
  }

  connectionClosed(): void {
    this.closed++;
  }

  command(command: string): void {
    this.countFor(command).calls++;
  }

  commandError(command: string): void {
    this.countFor(command).errors++;
  }

  bytesIn(count: number): void {
    this.inBytes += count;
  }

  bytesOut(count: number): void {
    this.outBytes += count;
  }

  messageIn(command: 'PRIVMSG' | 'NOTICE' | 'TAGMSG'): void {
    this.messagesIn[command]++;
  }

  relayed(recipients: number): void {
    this.messagesOut++;
    this.deliveries += recipients;
  }

  sendqDrop(): void {
    this.sendqDrops++;
  }

  floodDisconnect(): void {
    this.floodDisconnects++;
  }

  loginSucceeded(mechanism: string): void {
    this.logins.inc({ mechanism });
  }

  loginFailed(mechanism: string, throttled: boolean): void {
    if (throttled) this.loginsThrottled.inc({ mechanism });
    else this.loginFailures.inc({ mechanism });
  }

  historyCommit(messages: number, seconds: number): void {
    this.historyBatch.observe(messages);
    this.historyCommitSeconds.observe(seconds);
  }

  storeQuery(operation: string, seconds: number): void {
    this.storeQuerySeconds.observe({ operation }, seconds);
  }

  httpRequest(route: string, status: number): void {
    this.httpRequests.inc({ route, status: String(status) });
  }

  private countFor(command: string): CommandCount {
    let count = this.commands.get(command);
    if (count === undefined) {
      if (command === 'other' || this.commands.size >= MAX_COMMAND_LABELS) return this.otherCommand;
      this.commands.set(command, (count = { calls: 0, errors: 0 }));
    }
    return count;
  }
}
