// Forked worker processes holding passive (counting) members: they keep the coordinator's
// event loop short so its send and receive timestamps stay accurate.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Target } from './conn.js';

export type ToWorker =
  | { type: 'start'; target: Target; nicks: string[]; room: string; timeoutMs: number; concurrency: number }
  | { type: 'reset' }
  | { type: 'count' }
  | { type: 'stop' };

export type FromWorker =
  | { type: 'ready'; connected: number; failures: Record<string, number> }
  | { type: 'ok' }
  | { type: 'count'; privmsgs: number; dropped: number }
  | { type: 'final'; privmsgs: number; dropped: number; reasons: string[]; cpuShare: number };

export class Worker {
  private readonly child: ChildProcess;
  private pending: { type: string; resolve: (m: FromWorker) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];
  exited = false;

  constructor() {
    const self = fileURLToPath(import.meta.url);
    const file = self.replace(/workers\.(ts|js)$/, 'worker.$1');
    this.child = fork(file, [], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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
