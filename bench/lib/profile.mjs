// Self time per function from a V8 .cpuprofile (node --cpu-prof).
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

function shortUrl(url) {
  if (!url) return '';
  const path = url.startsWith('file://') ? new URL(url).pathname : url;
  return path.startsWith('/') ? relative(process.cwd(), path) : path;
}

/**
 * Returns { totalMs, functions: [{ name, where, selfMs, share }], files: [{ file, selfMs, share }] },
 * each sorted by self time, largest first.
 */
export function summarizeProfile(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  // timeDeltas[i] is the time before samples[i]; the time after a sample is its own.
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + delta);
  }
  const functions = new Map();
  const files = new Map();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const { callFrame } = byId.get(id);
    const where = callFrame.url ? `${shortUrl(callFrame.url)}:${callFrame.lineNumber + 1}` : '';
    const name = callFrame.functionName || '(anonymous)';
    const key = `${name}\u0000${where}`;
    functions.set(key, (functions.get(key) ?? 0) + us);
    const fileKey = callFrame.url ? shortUrl(callFrame.url) : name;
    files.set(fileKey, (files.get(fileKey) ?? 0) + us);
    totalUs += us;
  }
  const idleUs = [...functions].filter(([key]) => key.startsWith('(idle)\u0000')).reduce((sum, [, us]) => sum + us, 0);
  const busyUs = totalUs - idleUs;
  const sortedBusy = (map, make) =>
    [...map].sort((a, b) => b[1] - a[1]).map(([key, us]) => ({ ...make(key), selfMs: us / 1000, share: totalUs ? us / totalUs : 0, busyShare: busyUs ? us / busyUs : 0 }));
  return {
    totalMs: totalUs / 1000,
    busyMs: busyUs / 1000,
    functions: sortedBusy(functions, (key) => {
      const [name, where] = key.split('\u0000');
      return { name, where };
    }),
    files: sortedBusy(files, (file) => ({ file })),
  };
}

export function formatProfile(summary, top = 20) {
  const row = (f, label) =>
    `  ${(f.share * 100).toFixed(1).padStart(5)}%  ${f.name === '(idle)' || f.file === '(idle)' ? '     ' : `${(f.busyShare * 100).toFixed(1).padStart(5)}`}  ${f.selfMs.toFixed(0).padStart(7)} ms  ${label}`;
  const lines = [
    `sampled ${(summary.totalMs / 1000).toFixed(2)} s, of which not idle ${(summary.busyMs / 1000).toFixed(2)} s`,
    '',
    'self time by function (% of all samples, % of non-idle samples):',
  ];
  for (const f of summary.functions.slice(0, top)) lines.push(row(f, `${f.name}  ${f.where}`));
  lines.push('', 'self time by file:');
  for (const f of summary.files.slice(0, Math.min(12, top))) lines.push(row(f, f.file));
  return lines.join('\n');
}
