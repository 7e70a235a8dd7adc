// A child process of the fanout measurement: it holds a share of the passive room members.
// Passive members only count what they receive (count mode); they answer PINGs. Every 20 ms
// during the run the worker pushes its delivery count, so the coordinator can bound the
// backlog; the rest is request/response (see fanout.mjs). Clients are BenchConn
// (src/bench/conn.ts, from dist/), opened through swarm.mjs.
import { serveParent } from './ipc.mjs';
import { openClients, runBounded, summarizeFailures } from './swarm.mjs';

/** Global member index -> client, for the members this worker holds. */
const clients = new Map();
let disconnects = 0;
const reasons = new Map();
let counting = false;
let progressTimer = null;
let lazyTimer = null;
let paused = [];

function deliveries() {
  let n = 0;
  for (const c of clients.values()) n += c.privmsgs;
  return n;
}

function lineTotals() {
  let lines = 0;
  let other = 0;
  for (const c of clients.values()) {
    lines += c.lines;
    other += c.lines - c.privmsgs;
  }
  return { lines, other };
}

serveParent({
  /** Register every member given: { port, members: [{ index, nick }], concurrency } */
  async register({ port, members, concurrency }) {
    const { clients: opened, byIndex, failures } = await openClients({ port, count: members.length, concurrency, nick: (i) => members[i].nick });
    members.forEach((m, i) => {
      const c = byIndex[i];
      if (!c) return;
      clients.set(m.index, c);
      c.onClose = (client) => {
        if (!counting) return;
        disconnects++;
        const why = client.error ?? 'closed';
        reasons.set(why, (reasons.get(why) ?? 0) + 1);
      };
    });
    return { registered: opened.length, failures: summarizeFailures(failures), failed: failures.length };
  },

  /** JOIN the room for the members with these global indices. */
  async join({ room, indices, concurrency }) {
    const members = indices.map((i) => clients.get(i)).filter(Boolean);
    const { failures } = await runBounded({
      count: members.length,
      concurrency,
      deadlineMs: 120_000,
      task: (i) => members[i].join(room, 60_000),
    });
    return { joined: members.length - failures.length, failures: summarizeFailures(failures), failed: failures.length };
  },

  lines: () => lineTotals(),

  /**
   * From now on only count; counters restart at zero. With lazyMs > 0 a member stops reading
   * after each read until the next lazy tick, so it reads at most once per tick: the server's
   * work per delivery is the same, the bench's read calls are fewer.
   */
  count({ lazyMs }) {
    for (const c of clients.values()) {
      c.countOnly();
      c.resetCounters();
      if (lazyMs > 0) c.onPause = (client) => paused.push(client);
    }
    if (lazyMs > 0) {
      lazyTimer = setInterval(() => {
        const batch = paused;
        paused = [];
        for (const c of batch) c.resume();
      }, lazyMs);
    }
    counting = true;
    progressTimer = setInterval(() => process.send({ type: 'progress', deliveries: deliveries() }), 20);
    return { members: clients.size };
  },

  snapshot() {
    const { lines, other } = lineTotals();
    let open = 0;
    for (const c of clients.values()) if (!c.closed) open++;
    return {
      lines,
      other,
      deliveries: lines - other,
      open,
      disconnects,
      reasons: Object.fromEntries(reasons),
      cpu: process.cpuUsage(),
    };
  },

  close() {
    clearInterval(progressTimer);
    clearInterval(lazyTimer);
    for (const c of clients.values()) c.close();
    setTimeout(() => process.exit(0), 50);
    return {};
  },
});

// If the coordinator goes away, so does the worker.
process.on('disconnect', () => process.exit(0));
