// Unit benchmark of the mask matcher (src/protocol/glob.ts): worst-case masks against long
// subjects. Run after a build: `npm run build && node bench/glob.mjs`. Prints µs per match.
import { matchGlob } from '../dist/protocol/index.js';

const cases = [
  ['ban mask vs 30 a (froze the regex matcher)', '*a*a*a*a*a*a*a*a*a*a*b!*@*', `${'a'.repeat(30)}!~u@127.0.0.1`],
  ['250-star mask vs 500 a, no match', `${'*a'.repeat(250)}*b`, 'a'.repeat(500)],
  ['250-star mask vs 500 chars, match', `${'*a'.repeat(250)}*b`, `${'a'.repeat(499)}b`],
  ['150-char ban mask (the longest accepted) vs a prefix', `${'*a'.repeat(74)}*b`, `${'a'.repeat(30)}!~${'a'.repeat(17)}@${'a'.repeat(63)}`],
  ['typical ban', '*!*@192.0.2.*', 'alice!~alice@192.0.2.17'],
];

for (const [name, mask, subject] of cases) {
  // Bounded: at most 200,000 calls or 2 s per case, whichever comes first.
  const deadline = performance.now() + 2000;
  let calls = 0;
  const start = performance.now();
  while (calls < 200_000 && performance.now() < deadline) {
    for (let i = 0; i < 100; i++) matchGlob(mask, subject);
    calls += 100;
  }
  const micros = ((performance.now() - start) * 1000) / calls;
  console.log(`${name.padEnd(55)} ${micros.toFixed(3).padStart(10)} µs/match  (${calls} calls)`);
}
