// CPU and memory: the server's from /proc/PID (Linux), the generator's from process.cpuUsage().
import { readFileSync } from 'node:fs';

const CLK_TCK = 100; // USER_HZ on Linux is 100 on every mainstream architecture

export function readCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

export function readRssKb(pid: number): number | null {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : null;
}

/** Checks that /proc/PID can be read; returns a reason if not. */
export function checkPid(pid: number): string | null {
  try {
    readCpuSeconds(pid);
    return null;
  } catch {
    return `no process ${pid} can be read in /proc`;
  }
}

export interface ServerSample {
  t: number;
  cpuPercent: number;
  rssKb: number | null;
}

/**
 * Samples a server process once a second. Once the scenario says when it measures
 * (`measure`), the samples and the average cover just that window, on the same time axis as
 * the scenario's series: sample t is the second [t, t+1) from the start of the measurement.
 */
export class ServerSampler {
  readonly samples: ServerSample[] = [];
  private timer: NodeJS.Timeout | null = null;
  private windowTimers: NodeJS.Timeout[] = [];
  private lastCpu = 0;
  private lastAt = 0;
  private startCpu = 0;
  private startAt = 0;
  /** The average's end: the end of the measurement, or stop(). */
  private end: { cpu: number; at: number } | null = null;
  error: string | null = null;

  constructor(private readonly pid: number) {}

  start(): void {
    this.startCpu = this.lastCpu = readCpuSeconds(this.pid);
    this.startAt = this.lastAt = performance.now();
    this.timer = setInterval(() => this.sample(), 1000);
  }

  /** The measured window: from `fromNs` (process.hrtime, now or later) for `seconds`. */
  measure(fromNs: bigint, seconds: number): void {
    const inMs = Math.max(0, Number(fromNs - process.hrtime.bigint()) / 1e6);
    this.windowTimers.push(
      setTimeout(() => {
        if (this.timer === null) return;
        // Start over at the measurement, so each sample is one of its seconds.
        clearInterval(this.timer);
        this.samples.length = 0;
        this.start();
      }, inMs),
      setTimeout(() => this.endWindow(), inMs + seconds * 1000),
    );
  }

  private endWindow(): void {
    if (this.timer === null) return;
    // The last, partial second, unless it is too short to say anything.
    if (performance.now() - this.lastAt >= 250) this.sample();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    try {
      this.end = { cpu: readCpuSeconds(this.pid), at: performance.now() };
    } catch {
      /* gone: sample() said so */
    }
  }

  private sample(): void {
    try {
      const cpu = readCpuSeconds(this.pid);
      const now = performance.now();
      this.samples.push({ t: Math.round((this.lastAt - this.startAt) / 1000), cpuPercent: ((cpu - this.lastCpu) / ((now - this.lastAt) / 1000)) * 100, rssKb: readRssKb(this.pid) });
      this.lastCpu = cpu;
      this.lastAt = now;
    } catch {
      this.error = `process ${this.pid} went away`;
      this.stop();
    }
  }

  stop(): { cpuPercentAvg: number | null; cpuPercentMax: number | null; rssKbPeak: number | null; rssKbEnd: number | null; error: string | null } {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const timer of this.windowTimers) clearTimeout(timer);
    let avg: number | null = null;
    try {
      const end = this.end ?? { cpu: readCpuSeconds(this.pid), at: performance.now() };
      avg = ((end.cpu - this.startCpu) / ((end.at - this.startAt) / 1000)) * 100;
    } catch {
      /* gone */
    }
    const rss = this.samples.map((s) => s.rssKb ?? 0);
    return {
      cpuPercentAvg: avg,
      cpuPercentMax: this.samples.length ? Math.max(...this.samples.map((s) => s.cpuPercent)) : null,
      rssKbPeak: rss.length ? Math.max(...rss) : null,
      rssKbEnd: this.samples.at(-1)?.rssKb ?? null,
      error: this.error,
    };
  }
}

/** The generator's own CPU use between start() and stop(), as a share of one core. */
export class SelfCpu {
  private start = process.cpuUsage();
  private startAt = performance.now();

  reset(): void {
    this.start = process.cpuUsage();
    this.startAt = performance.now();
  }

  /** Fraction of one core used since reset (1 = a full core). */
  share(): number {
    const used = process.cpuUsage(this.start);
    const wallUs = (performance.now() - this.startAt) * 1000;
    return wallUs > 0 ? (used.user + used.system) / wallUs : 0;
  }
}

/** Above this share of a core the generator, not the server, may be the bottleneck. */
export const SATURATED = 0.9;
