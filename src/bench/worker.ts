// Entry point of a forked worker (see workers.ts): opens passive members, counts PRIVMSGs.
import { BenchConn, openMany } from './conn.js';
import { SelfCpu } from './proc.js';
import type { FromWorker, ToWorker } from './workers.js';

let conns: BenchConn[] = [];
let cpu = new SelfCpu();
const reply = (m: FromWorker) => process.send!(m);
const total = () => conns.reduce((sum, c) => sum + c.privmsgs, 0);

process.on('message', async (m: ToWorker) => {
  switch (m.type) {
    case 'start': {
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
      break;
    }
    case 'reset':
      for (const c of conns) c.resetCounters();
      cpu = new SelfCpu();
      reply({ type: 'ok' });
      break;
    case 'count':
      reply({ type: 'count', privmsgs: total(), dropped: conns.filter((c) => c.dropped).length });
      break;
    case 'stop': {
      const dropped = conns.filter((c) => c.dropped);
      reply({ type: 'final', privmsgs: total(), dropped: dropped.length, reasons: dropped.map((c) => c.error ?? 'closed'), cpuShare: cpu.share() });
      for (const c of conns) c.close();
      setTimeout(() => process.exit(0), 50);
      break;
    }
  }
});
process.on('disconnect', () => process.exit(0));
