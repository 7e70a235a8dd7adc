// Forked worker processes (worker.ts), one request/response protocol for every scenario that
// uses them:
// - fanout: a worker holds passive (counting) members, keeping the coordinator's event loop
//   short so its send and receive timestamps stay accurate ('start', 'reset', 'count', 'stop');
// - rooms: a worker runs whole rooms with the same RoomRunner as the in-process path
//   ('rooms-open', then 'rooms-run' at an instant of the shared monotonic clock);
// - connect: a worker opens its share of the clients with connectPart() ('connect-run').
// Messages use the 'advanced' serialization: latency samples travel as Float64Arrays and
// instants as bigints.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Target } from './conn.js';
import type { ConnectPlan, ConnectTally } from './scenario-connect.js';
import type { RoomsPlan, RoomsTally } from './scenario-rooms.js';

export type ToWorker =
  | { type: 'ping' }
  | { type: 'start'; target: Target; nicks: string[]; room: string; timeoutMs: number; concurrency: number }
  | { type: 'reset' }
  | { type: 'count' }
  | { type: 'stop' }
  | { type: 'rooms-open'; plan: RoomsPlan }
  | { type: 'rooms-run'; startNs: bigint }
  | { type: 'connect-run'; plan: ConnectPlan; startNs: bigint };

export type FromWorker =
  | { type: 'ready'; connected: number; failures: Record<string, number> }
  | { type: 'ok' }
  | { type: 'count'; privmsgs: number; dropped: number }
  | { type: 'final'; privmsgs: number; dropped: number; reasons: string[]; cpuShare: number }
  | { type: 'rooms-ready'; connected: number; failures: Record<string, number> }
  | { type: 'rooms-result'; tally: RoomsTally }
  | { type: 'connect-result'; tally: ConnectTally };

export class Worker {
  private readonly child: ChildProcess;
  private pending: { type: string; resolve: (m: FromWorker) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];
  exited = false;

  constructor() {
    const self = fileURLToPath(import.meta.url);
    const file = self.replace(/workers\.(ts|js)$/, 'worker.$1');
    this.child = fork(file, [], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    this.child.on('message', (m: FromWorker) => {
      const i = this.pending.findIndex((p) => p.type === m.type);
      if (i === -1) return;
      const [p] = this.pending.splice(i, 1);
      clearTimeout(p!.timer);
      p!.resolve(m);
    });
    this.child.on('exit', () => {
      this.exited = true;
      for (const p of this.pending.splice(0)) {
        clearTimeout(p.timer);
        p.reject(new Error('worker exited'));
      }
    });
  }

  ask<T extends FromWorker['type']>(message: ToWorker, reply: T, timeoutMs: number): Promise<Extract<FromWorker, { type: T }>> {
    return new Promise((resolve, reject) => {
      if (this.exited) {
        reject(new Error('worker exited'));
        return;
      }
      const timer = setTimeout(() => {
        this.pending = this.pending.filter((p) => p.timer !== timer);
        reject(new Error(`worker: no '${reply}' in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.push({ type: reply, resolve: resolve as (m: FromWorker) => void, reject, timer });
      this.child.send(message);
    });
  }

  kill(): void {
    if (!this.exited) this.child.kill();
  }
}

/** Forks n workers and waits until each answers (it has loaded); the caller kills them. */
export async function startWorkers(n: number, timeoutMs: number): Promise<Worker[]> {
  const workers = Array.from({ length: n }, () => new Worker());
  try {
    await Promise.all(workers.map((w) => w.ask({ type: 'ping' }, 'ok', timeoutMs)));
  } catch (err) {
    for (const w of workers) w.kill();
    throw err;
  }
  return workers;
}

/** Deals items out round-robin into n parts (part w gets items w, w + n, ...). */
export function dealOut<T>(items: readonly T[], n: number): T[][] {
  const parts: T[][] = Array.from({ length: n }, () => []);
  items.forEach((item, i) => parts[i % n]!.push(item));
  return parts;
}
