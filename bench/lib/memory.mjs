// Measurement 1: memory per idle registered connection.
//
// RSS of the server after it started, then N clients connect and register (NICK/USER, wait
// for 001) with a bounded number in flight, then after a pause RSS again. Nothing is forced:
// no GC, no compaction; the figure is what the OS sees the process holding.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readCpuSeconds, readMemory, waitForIdleMachine } from './proc.mjs';
import { launchServer } from './servers.mjs';
import { openClients, summarizeFailures } from './swarm.mjs';

export async function measureMemory(kind, opts, log) {
  const machineBefore = await waitForIdleMachine({ log });
  const server = await launchServer(kind, {
    label: `${kind}-memory`,
    cpu: opts.serverCpu,
    sendq: opts.sendq,
    maxConnections: opts.connections + 1000,
    nagle: opts.parleyNagle,
    profileDir: kind === 'parley' && opts.profileDir ? join(opts.profileDir, `${kind}-memory`) : null,
    outDir: opts.outDir,
  });
  let clients = [];
  try {
    await sleep(1000);
    const before = readMemory(server.pid);
    const heapBefore = await server.heap();
    const cpuBefore = readCpuSeconds(server.pid);
    log(`  ${kind}: RSS after start ${(before.rssKb / 1024).toFixed(1)} MiB; opening ${opts.connections} connections (${opts.concurrency} in flight)`);

    let lastReport = Date.now();
    const opened = await openClients({
      port: server.port,
      count: opts.connections,
      prefix: 'm',
      concurrency: opts.concurrency,
      deadlineMs: 240_000,
      onProgress: (done, failed) => {
        if (Date.now() - lastReport > 5000) {
          lastReport = Date.now();
          log(`    ${done} registered, ${failed} failed`);
        }
      },
    });
    clients = opened.clients;
    const registerCpu = readCpuSeconds(server.pid) - cpuBefore;
    log(`  ${kind}: ${clients.length} registered in ${(opened.elapsedMs / 1000).toFixed(1)} s; waiting 2 s`);
    await sleep(2000);
    const after = readMemory(server.pid);
    const heapAfter = await server.heap();
    const alive = clients.filter((c) => !c.closed).length;
    const n = clients.length || 1;
    return {
      server: kind,
      connections: { requested: opts.connections, registered: clients.length, failed: opened.failures.length, retried: opened.retries, stillOpen: alive },
      failures: summarizeFailures(opened.failures),
      registerSeconds: opened.elapsedMs / 1000,
      registerPerSecond: clients.length / (opened.elapsedMs / 1000),
      serverCpuSecondsForRegistration: registerCpu,
      rssBeforeKb: before.rssKb,
      rssAfterKb: after.rssKb,
      rssPeakKb: after.hwmKb,
      rssPerConnectionKb: (after.rssKb - before.rssKb) / n,
      heap: heapBefore && heapAfter
        ? {
            usedBeforeBytes: heapBefore.heapUsed,
            usedAfterBytes: heapAfter.heapUsed,
            totalAfterBytes: heapAfter.heapTotal,
            externalAfterBytes: heapAfter.external,
            usedPerConnectionKb: (heapAfter.heapUsed - heapBefore.heapUsed) / 1024 / n,
          }
        : null,
      serverExited: server.exited,
      machineBefore,
    };
  } finally {
    for (const c of clients) c.close();
    await server.stop(opts.profileDir ? 60_000 : 10_000);
  }
}
