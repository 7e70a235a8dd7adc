// What /proc says about a process: resident memory and CPU time. Linux only.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clockTicks = null;

/** Clock ticks per second, the unit of utime/stime in /proc/PID/stat. */
export function clkTck() {
  if (clockTicks === null) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** VmRSS and VmHWM of a process, in KiB. */
export function readMemory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => {
    const match = status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'));
    return match ? Number(match[1]) : null;
  };
  return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') };
}

/** CPU seconds (user + system, all threads) a process has used so far. */
export function readCpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces: fields are counted after its closing ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / clkTck();
}

/** The CPUs a process may run on, as the kernel reports them (e.g. "0" or "0-1"). */
export function readAffinity(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return status.match(/^Cpus_allowed_list:\s+(\S+)/m)?.[1] ?? '?';
}

/** The soft limit on open files of a process. */
export function readFdLimit(pid) {
  const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
  const match = limits.match(/^Max open files\s+(\d+|unlimited)/m);
  return match ? (match[1] === 'unlimited' ? Infinity : Number(match[1])) : null;
}

/** Jiffies per CPU from /proc/stat: { cpu0: { user, system, softirq, busy, total }, ... }. */
export function readCpuTimes() {
  const out = {};
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const match = line.match(/^(cpu\d+)\s+(.*)$/);
    if (!match) continue;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = match[2].split(' ').map(Number);
    const busy = user + nice + system + irq + softirq + steal;
    out[match[1]] = { user: user + nice, system, softirq: softirq + irq, busy, total: busy + idle + iowait };
  }
  return out;
}

/**
 * Per CPU, the fraction of time between two readCpuTimes() readings that was busy, and how it
 * split into user, system and (soft)irq time. With IRQ time accounting, softirq time (where much
 * of loopback TCP's work happens) is not charged to any process.
 */
export function cpuBusyBetween(a, b) {
  const out = {};
  for (const cpu of Object.keys(b)) {
    if (!a[cpu]) continue;
    const total = b[cpu].total - a[cpu].total;
    if (total <= 0) continue;
    const share = (key) => (b[cpu][key] - a[cpu][key]) / total;
    out[cpu] = { busy: share('busy'), user: share('user'), system: share('system'), softirq: share('softirq') };
  }
  return out;
}

/** How many cores' worth of CPU the whole machine used over `ms` milliseconds (softirq included). */
export async function machineBusyCores(ms) {
  const a = readCpuTimes();
  await new Promise((done) => setTimeout(done, ms));
  const b = readCpuTimes();
  return Object.values(cpuBusyBetween(a, b)).reduce((sum, c) => sum + c.busy, 0);
}

/**
 * Wait (at most maxWaitMs) until the machine is idle: less than `maxBusyCores` used over one
 * second. Other work on this machine (a build, a test run) distorts every figure.
 */
export async function waitForIdleMachine({ maxBusyCores = 0.15, maxWaitMs = 120_000, log = () => {} } = {}) {
  const started = Date.now();
  let busy = await machineBusyCores(1000);
  let told = false;
  while (busy > maxBusyCores && Date.now() - started < maxWaitMs) {
    if (!told) {
      log(`  machine busy (${busy.toFixed(2)} cores used by other processes); waiting up to ${Math.round(maxWaitMs / 1000)} s for it to settle`);
      told = true;
    }
    busy = await machineBusyCores(1000);
  }
  return { busyCores: busy, waitedSeconds: (Date.now() - started) / 1000, idle: busy <= maxBusyCores };
}

/** Machine-wide TCP segment counters from /proc/net/snmp (loopback counts both ends). */
export function readTcpCounters() {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Tcp:'));
  if (lines.length < 2) return null;
  const names = lines[0].split(/\s+/).slice(1);
  const values = lines[1].split(/\s+/).slice(1).map(Number);
  const get = (name) => values[names.indexOf(name)];
  return { outSegs: get('OutSegs'), inSegs: get('InSegs'), retransSegs: get('RetransSegs') };
}
