// Measurement 2: fanout in one room.
//
// M members join #bench; S of them send `PRIVMSG #bench :<seq> <send-time-ns>`. This process
// (the coordinator) holds the senders and K sampled receivers, which parse every line: they
// compute latency from the embedded send time (same process, same clock) and one of them, the
// designated receiver, acknowledges each sender's messages. The other members are passive
// receivers in forked workers that only count lines. Members connect and join in K slices
// (passive members, then senders, then one sampler), so samplers sit at evenly spread positions
// both of the connection order and of the join order (a server walks its member list in one of
// them, or in an order derived from them), and the last sampler is the last member to join.
//
// Load: "window" mode keeps at most W unacknowledged messages per sender (as fast as the
// server goes); "rate" mode sends N messages/s in total on a fixed schedule. In both modes a
// backlog guard holds the senders back when the receivers as a whole fall more than
// `maxBacklog` messages behind, so a slow bench cannot grow the server's queues without bound.
//
// Clients are BenchConn (src/bench/conn.ts, from dist/), opened through swarm.mjs. This process's
// own connections carry the run's bookkeeping: `member` (their place in the layout) and, for
// samplers, `expected` (the next sequence number per sender).
import { fork } from 'node:child_process';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectChild } from './ipc.mjs';
import { cpuBusyBetween, readCpuSeconds, readCpuTimes, readTcpCounters, waitForIdleMachine } from './proc.mjs';
import { launchServer } from './servers.mjs';
import { openClients } from './swarm.mjs';
import { summarize } from './stats.mjs';

const ROOM = '#bench';
const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'fanout-worker.mjs');
const MAX_SAMPLES = 5_000_000;
const T0 = process.hrtime.bigint();
/** Nanoseconds since this module loaded; a Number stays exact for 104 days. */
const nowNs = () => Number(process.hrtime.bigint() - T0);

/**
 * The order in which members connect and join: K slices, each passive members, then senders,
 * then one sampler. Returns [{ role: 'passive'|'sender'|'sampler', n, nick, index, slice }];
 * `n` counts per role, `index` is the position in the whole order.
 */
export function layoutMembers(members, senders, samplers) {
  const passive = members - senders - samplers;
  const order = [];
  for (let j = 0; j < samplers; j++) {
    const add = (count, role, prefix) => {
      const from = Math.floor((j * count) / samplers);
      const to = Math.floor(((j + 1) * count) / samplers);
      for (let n = from; n < to; n++) order.push({ role, n, nick: `${prefix}${n}`, slice: j });
    };
    add(passive, 'passive', 'r');
    add(senders, 'sender', 's');
    order.push({ role: 'sampler', n: j, nick: `l${j}`, slice: j });
  }
  return order.map((m, index) => ({ ...m, index }));
}

export async function measureFanout(kind, opts, log) {
  const before = await waitForIdleMachine({ log });
  const label = `${kind}-fanout${opts.rate ? `-rate${opts.rate}` : ''}`;
  const server = await launchServer(kind, {
    label,
    cpu: opts.serverCpu,
    sendq: opts.sendq,
    maxConnections: opts.members + 1000,
    nagle: opts.parleyNagle,
    profileDir: kind === 'parley' && opts.profileDir ? join(opts.profileDir, label) : null,
    outDir: opts.outDir,
  });
  const run = new FanoutRun(server, opts, log);
  try {
    const result = await run.execute();
    result.machineBefore = before;
    result.serverExitedDuringRun = server.exited;
    return result;
  } finally {
    await run.close();
    await server.stop(opts.profileDir ? 60_000 : 10_000);
  }
}

class FanoutRun {
  constructor(server, opts, log) {
    this.server = server;
    this.opts = opts;
    this.log = log;
    this.order = layoutMembers(opts.members, opts.senders, opts.samplers);
    this.workers = [];
    this.senders = [];
    this.samplers = [];
    this.counting = false;
    this.running = false;
    this.mode = opts.rate ? 'rate' : 'window';
    this.latency = [];
    this.latencySendTs = [];
    this.latencySampler = [];
    this.samplerGaps = 0;
    this.disconnects = 0;
    this.reasons = new Map();
    this.backlogPauses = 0;
    this.skippedForBacklog = 0;
    this.skippedForWindow = 0;
    this.retryTimer = null;
    this.rateTimer = null;
    this.joined = 0;
  }

  get mainClients() {
    return [...this.senders.map((s) => s.client), ...this.samplers];
  }

  // --- setup ---------------------------------------------------------------------------------

  async execute() {
    const { opts, log } = this;
    const port = this.server.port;
    const passive = this.order.filter((m) => m.role === 'passive');
    const workerCount = Math.max(1, Math.min(opts.workers, passive.length || 1));
    for (let w = 0; w < workerCount; w++) {
      const child = fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      // The coordinator's sockets (senders, sampled receivers) go first when CPU 1 is contended.
      try {
        os.setPriority(child.pid, 5);
      } catch {}
      const worker = { child, progress: 0, members: passive.filter((m) => m.n % workerCount === w) };
      worker.rpc = connectChild(child, (msg) => {
        if (msg?.type === 'progress') worker.progress = msg.deliveries;
      });
      this.workers.push(worker);
    }

    log(`  ${this.server.kind}: ${opts.members} members connect and join ${ROOM} in ${opts.samplers} slices (${this.workers.length} worker processes)`);
    const t0 = Date.now();
    const setupFailures = [];
    let registerFailed = 0;
    let joinFailed = 0;
    const failed = (kind, count, notes) => {
      if (kind === 'register') registerFailed += count;
      else joinFailed += count;
      setupFailures.push(...notes);
    };
    // Connect: per slice, the workers' passive members, then this process's own members (the
    // slice's senders and its sampler).
    for (let j = 0; j < opts.samplers; j++) {
      const slice = this.order.filter((m) => m.slice === j);
      const results = await Promise.all(
        this.workers.map((w) =>
          w.rpc.call('register', {
            port,
            members: w.members.filter((m) => m.slice === j).map(({ index, nick }) => ({ index, nick })),
            concurrency: 100,
          }),
        ),
      );
      for (const r of results) failed('register', r.failed, r.failures);
      const own = slice.filter((m) => m.role !== 'passive');
      const opened = await openClients({ port, count: own.length, concurrency: own.length, nick: (i) => own[i].nick });
      failed('register', opened.failures.length, opened.failures.map((f) => f.error));
      own.forEach((member, i) => {
        if (opened.byIndex[i]) this.adopt(opened.byIndex[i], member);
      });
    }
    if (this.senders.length !== opts.senders || this.samplers.length === 0) {
      throw new Error(`senders/samplers could not register: ${setupFailures.slice(0, 3).join('; ')}`);
    }
    this.senderByNick = new Map(this.senders.map((s) => [s.client.nick, s]));
    this.ackClient = this.samplers[0];

    // Join, in the same order.
    for (let j = 0; j < opts.samplers; j++) {
      const results = await Promise.all(
        this.workers.map((w) => w.rpc.call('join', { room: ROOM, indices: w.members.filter((m) => m.slice === j).map((m) => m.index), concurrency: 50 })),
      );
      for (const r of results) {
        this.joined += r.joined;
        failed('join', r.failed, r.failures);
      }
      for (const client of this.mainClients.filter((c) => c.member.slice === j)) {
        try {
          await client.join(ROOM, 60_000);
          this.joined++;
        } catch (err) {
          failed('join', 1, [err.message]);
        }
      }
    }
    const setupSeconds = (Date.now() - t0) / 1000;
    log(`  ${this.server.kind}: ${this.joined} members in ${ROOM} after ${setupSeconds.toFixed(1)} s; waiting for quiet`);
    await this.waitForQuiet();

    // Count from here: passive members switch to counting, everyone starts from zero.
    for (const s of this.senders) s.client.countOnly();
    for (const c of this.mainClients) c.resetCounters();
    await Promise.all(this.workers.map((w) => w.rpc.call('count', { lazyMs: opts.lazyMs })));
    this.counting = true;

    const measured = await this.load();
    return {
      server: this.server.kind,
      mode: this.mode,
      window: opts.window,
      targetRate: opts.rate,
      members: { requested: opts.members, joined: this.joined, registerFailed, joinFailed },
      setupFailures: [...new Set(setupFailures)].slice(0, 5),
      senders: this.senders.length,
      samplers: this.samplers.length,
      workers: this.workers.length,
      setupSeconds,
      ...measured,
    };
  }

  /** One of this process's members: a sender, or a sampler that times (and acks) every message. */
  adopt(client, member) {
    client.member = member;
    client.onClose = (c) => this.onMainClose(c);
    if (member.role === 'sender') {
      this.senders.push({ client, n: member.n, sent: 0, acked: 0 });
      return;
    }
    client.expected = [];
    client.onPrivmsg = (source, text, now) => this.onSampled(client, source, text, now);
    this.samplers.push(client);
  }

  /** Wait until no member receives anything for 300 ms (the JOIN/NAMES storm is over). */
  async waitForQuiet() {
    let previous = -1;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      let total = 0;
      for (const c of this.mainClients) total += c.lines;
      for (const r of await Promise.all(this.workers.map((w) => w.rpc.call('lines')))) total += r.lines;
      if (total === previous) return;
      previous = total;
      await sleep(300);
    }
  }

  // --- load ----------------------------------------------------------------------------------

  async load() {
    const { opts, log } = this;
    const recipients = this.joined - 1;
    this.recipients = recipients;
    log(
      `  ${this.server.kind}: ${this.mode === 'rate' ? `${opts.rate} msg/s` : `window ${opts.window}/sender`}, ` +
        `${opts.warmup} s warm-up + ${opts.duration} s measured`,
    );
    this.running = true;
    if (this.mode === 'window') for (const s of this.senders) this.pump(s);
    else this.startRate();

    await sleep(opts.warmup * 1000);
    const a = await this.snapshot();
    await sleep(opts.duration * 1000);
    const b = await this.snapshot();
    this.stopLoad();

    // Drain: wait until every expected delivery arrived, or nothing moved for 2 s (30 s at most).
    // Counted after stopLoad: in window mode acknowledgements kept sending while the snapshot
    // above waited for the workers, so b.sent may be short of what was sent.
    const expected = this.totalSent() * recipients;
    let last = -1;
    let lastChange = Date.now();
    const drainStart = Date.now();
    let c = b;
    while (Date.now() - drainStart < 30_000) {
      await sleep(100);
      const received = this.receivedNow();
      if (received >= expected) break;
      if (received !== last) {
        last = received;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > 2000) break;
    }
    c = await this.snapshot();
    const drainSeconds = (Date.now() - drainStart) / 1000;

    const seconds = (b.t - a.t) / 1e9;
    const inWindow = [];
    const bySampler = this.samplers.map(() => []);
    for (let i = 0; i < this.latency.length; i++) {
      const ts = this.latencySendTs[i];
      if (ts >= a.t && ts <= b.t) {
        inWindow.push(this.latency[i] / 1e6);
        bySampler[this.latencySampler[i]]?.push(this.latency[i] / 1e6);
      }
    }
    // Where in the server's delivery order each sampler sits shows in its own median.
    const latencyBySampler = this.samplers.map((c, i) => {
      const { p50, p99 } = summarize(bySampler[i] ?? []);
      return { sampler: c.nick, position: c.member.index, p50, p99 };
    });
    const workerCpu = (snap) => snap.workers.reduce((sum, w) => sum + (w.cpu.user + w.cpu.system) / 1e6, 0);
    const mainCpu = (snap) => (snap.mainCpu.user + snap.mainCpu.system) / 1e6;
    const generatorCpu = (mainCpu(b) - mainCpu(a) + workerCpu(b) - workerCpu(a)) / seconds;
    const lost = c.sent * recipients - c.deliveries;
    const cpuBusy = cpuBusyBetween(a.cpuTimes, b.cpuTimes);
    const serverCpu = (b.serverCpu - a.serverCpu) / seconds;
    // Process time (user + system) on the machine that is neither the server's nor the bench's.
    const processCores = Object.values(cpuBusy).reduce((sum, v) => sum + v.user + v.system, 0);
    const otherCpu = Math.max(0, processCores - serverCpu - generatorCpu);
    const workerReasons = {};
    for (const w of c.workers) for (const [why, n] of Object.entries(w.reasons)) workerReasons[why] = (workerReasons[why] ?? 0) + n;
    for (const [why, n] of this.reasons) workerReasons[why] = (workerReasons[why] ?? 0) + n;

    return {
      measuredSeconds: seconds,
      sent: { inWindow: b.sent - a.sent, total: c.sent },
      sentPerSecond: (b.sent - a.sent) / seconds,
      deliveriesPerSecond: (b.deliveries - a.deliveries) / seconds,
      idealDeliveriesPerSecond: ((b.sent - a.sent) * recipients) / seconds,
      nonMessageLines: c.other,
      latencyMs: summarize(inWindow),
      latencySampledMembers: this.samplers.length,
      latencyBySampler,
      expectedDeliveries: c.sent * recipients,
      receivedDeliveries: c.deliveries,
      lost,
      samplerGaps: this.samplerGaps,
      drainSeconds,
      disconnects: this.disconnects + c.workers.reduce((n, w) => n + w.disconnects, 0),
      disconnectReasons: workerReasons,
      backlogPauses: this.backlogPauses,
      skippedForBacklog: this.skippedForBacklog,
      skippedForWindow: this.skippedForWindow,
      serverCpu,
      generatorCpu,
      generatorCpuMain: (mainCpu(b) - mainCpu(a)) / seconds,
      otherCpu,
      cpuBusy,
      // All TCP segments on the machine (data and ACKs, both directions) per delivery.
      tcpSegmentsPerDelivery: a.tcp && b.tcp ? (b.tcp.outSegs - a.tcp.outSegs) / (b.deliveries - a.deliveries) : null,
      tcpRetransmits: a.tcp && b.tcp ? b.tcp.retransSegs - a.tcp.retransSegs : null,
      // CPU 0 runs only the server (and the softirq work of its writes): its busy time per delivery.
      serverCoreUsPerDelivery: cpuBusy.cpu0 ? (cpuBusy.cpu0.busy / ((b.deliveries - a.deliveries) / seconds)) * 1e6 : null,
      // Both CPUs, everything (server, bench, kernel) per delivery. The bench's share is about the
      // same for every server, so differences are the server's, wherever the kernel ran its work.
      machineUsPerDelivery:
        (Object.values(cpuBusy).reduce((sum, v) => sum + v.busy, 0) / ((b.deliveries - a.deliveries) / seconds)) * 1e6,
    };
  }

  /** Deliveries so far: this process's members now, the workers' as last pushed (<= 20 ms old). */
  receivedNow() {
    let n = 0;
    for (const c of this.mainClients) n += c.privmsgs;
    for (const w of this.workers) n += w.progress;
    return n;
  }

  totalSent() {
    let n = 0;
    for (const s of this.senders) n += s.sent;
    return n;
  }

  /** True while the receivers as a whole are more than maxBacklog messages behind. */
  backlogged() {
    const outstanding = this.totalSent() * this.recipients - this.receivedNow();
    return outstanding > this.opts.maxBacklog * this.recipients;
  }

  message(sender) {
    return `PRIVMSG ${ROOM} :${sender.sent++} ${nowNs()}`;
  }

  /** Window mode: top the sender up to W unacknowledged messages. */
  pump(sender) {
    if (!this.running || sender.client.closed) return;
    if (this.backlogged()) {
      if (!this.retryTimer) {
        this.backlogPauses++;
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          for (const s of this.senders) this.pump(s);
        }, 2);
      }
      return;
    }
    const lines = [];
    while (sender.sent - sender.acked < this.opts.window) lines.push(this.message(sender));
    sender.client.sendLines(lines);
  }

  /** Rate mode: message k is due at start + k/rate, sent by sender k mod S. */
  startRate() {
    const interval = 1e9 / this.opts.rate;
    const start = nowNs();
    let scheduled = 0;
    const tick = () => {
      if (!this.running) return;
      const due = Math.floor((nowNs() - start) / interval) + 1;
      // One write per sender per tick, whatever number of messages came due.
      const batches = new Map();
      const batch = (sender) => batches.get(sender) ?? batches.set(sender, []).get(sender);
      const held = this.backlogged();
      while (scheduled < due) {
        const sender = this.senders[scheduled % this.senders.length];
        scheduled++;
        if (held) this.skippedForBacklog++;
        else if (sender.sent - sender.acked >= this.opts.window) this.skippedForWindow++;
        else batch(sender).push(this.message(sender));
      }
      for (const [sender, lines] of batches) sender.client.sendLines(lines);
      const wait = (start + scheduled * interval - nowNs()) / 1e6;
      this.rateTimer = setTimeout(tick, Math.max(0, wait));
    };
    tick();
  }

  stopLoad() {
    this.running = false;
    clearTimeout(this.retryTimer);
    clearTimeout(this.rateTimer);
  }

  /** A sampled receiver got a PRIVMSG: latency, gaps, and (designated receiver) acks. */
  onSampled(client, source, text, now) {
    const sender = this.senderByNick.get(source.slice(0, source.indexOf('!')));
    if (!sender) return;
    const space = text.indexOf(' ');
    const seq = Number(text.slice(0, space));
    const sentAt = Number(text.slice(space + 1));
    if (this.latency.length < MAX_SAMPLES) {
      this.latency.push(Number(now - T0) - sentAt);
      this.latencySendTs.push(sentAt);
      this.latencySampler.push(client.member.n);
    }
    const expected = client.expected[sender.n] ?? 0;
    if (seq > expected) this.samplerGaps += seq - expected;
    client.expected[sender.n] = seq + 1;
    if (client === this.ackClient) {
      if (seq + 1 > sender.acked) sender.acked = seq + 1;
      if (this.mode === 'window') this.pump(sender);
    }
  }

  onMainClose(client) {
    if (!this.counting) return;
    this.disconnects++;
    const why = client.error ?? 'closed';
    this.reasons.set(why, (this.reasons.get(why) ?? 0) + 1);
  }

  async snapshot() {
    const t = nowNs();
    const mainCpu = process.cpuUsage();
    const serverCpu = readCpuSeconds(this.server.pid);
    const cpuTimes = readCpuTimes();
    const tcp = readTcpCounters();
    let lines = 0;
    let other = 0;
    for (const c of this.mainClients) {
      lines += c.lines;
      other += c.lines - c.privmsgs;
    }
    const sent = this.totalSent();
    const workers = await Promise.all(this.workers.map((w) => w.rpc.call('snapshot', {}, 30_000)));
    for (const w of workers) {
      lines += w.lines;
      other += w.other;
    }
    return { t, mainCpu, serverCpu, cpuTimes, tcp, sent, lines, other, deliveries: lines - other, workers };
  }

  async close() {
    this.stopLoad();
    await Promise.all(
      this.workers.map(async (w) => {
        try {
          await w.rpc.call('close', {}, 5000);
        } catch {}
        const timer = setTimeout(() => w.child.kill('SIGKILL'), 5000);
        if (w.child.exitCode === null && w.child.signalCode === null) await new Promise((done) => w.child.once('exit', done));
        clearTimeout(timer);
      }),
    );
    for (const c of this.mainClients) c.close();
  }
}
