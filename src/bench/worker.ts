// Entry point of a forked worker (see workers.ts for the protocol). fanout: opens passive
// members that only count PRIVMSGs. rooms and connect: runs the scenario's own runner
// (RoomRunner, connectPart) on the share the coordinator sends, exactly as the in-process path.
import { BenchConn, openMany } from './conn.js';
import { SelfCpu } from './proc.js';
import { connectPart } from './scenario-connect.js';
import { RoomRunner } from './scenario-rooms.js';
import type { FromWorker, ToWorker } from './workers.js';

const reply = (m: FromWorker) => process.send!(m);

// --- fanout: passive members -----------------------------------------------------------------

let conns: BenchConn[] = [];
let cpu = new SelfCpu();
const total = () => conns.reduce((sum, c) => sum + c.privmsgs, 0);

async function openPassive(m: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  const opened = await openMany(m.nicks.length, m.concurrency, async (i) => {
    const conn = new BenchConn(m.target, m.nicks[i]!);
    try {
      await conn.open(m.timeoutMs);
      await conn.join(m.room, m.timeoutMs);
    } catch (err) {
      conn.close();
      throw err;
    }
    conn.countOnly();
    return conn;
  });
  conns = opened.conns.filter((c): c is BenchConn => c !== null);
  reply({ type: 'ready', connected: conns.length, failures: Object.fromEntries(opened.errors) });
}

function stopPassive(): void {
  const dropped = conns.filter((c) => c.dropped);
  reply({ type: 'final', privmsgs: total(), dropped: dropped.length, reasons: dropped.map((c) => c.error ?? 'closed'), cpuShare: cpu.share() });
  for (const c of conns) c.close();
  setTimeout(() => process.exit(0), 50);
}

// --- rooms: the runner opened by 'rooms-open' waits for 'rooms-run' ---------------------------

let rooms: RoomRunner | null = null;

// --- dispatch ------------------------------------------------------------------------------------

process.on('message', async (m: ToWorker) => {
  switch (m.type) {
    case 'ping':
      reply({ type: 'ok' });
      break;
    case 'start':
      await openPassive(m);
      break;
    case 'reset':
      for (const c of conns) c.resetCounters();
      cpu = new SelfCpu();
      reply({ type: 'ok' });
      break;
    case 'count':
      reply({ type: 'count', privmsgs: total(), dropped: conns.filter((c) => c.dropped).length });
      break;
    case 'stop':
      stopPassive();
      break;
    case 'rooms-open':
      rooms = await RoomRunner.open(m.plan);
      reply({ type: 'rooms-ready', connected: rooms.connected, failures: rooms.failures });
      break;
    case 'rooms-run':
      if (rooms === null) throw new Error("'rooms-run' before 'rooms-open'");
      reply({ type: 'rooms-result', tally: await rooms.run(m.startNs) });
      break;
    case 'connect-run':
      reply({ type: 'connect-result', tally: await connectPart(m.plan, m.startNs) });
      break;
  }
});
process.on('disconnect', () => process.exit(0));
