#!/usr/bin/env node
// Usage: node bench/profile-summary.mjs FILE.cpuprofile [--top N]
// Prints the functions and files with the most self time in a V8 CPU profile.
import { formatProfile, summarizeProfile } from './lib/profile.mjs';

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt === -1 ? 25 : Number(args.splice(topAt, 2)[1]);
if (args.length !== 1 || !Number.isInteger(top) || top < 1) {
  console.error('Usage: node bench/profile-summary.mjs FILE.cpuprofile [--top N]');
  process.exit(2);
}
console.log(formatProfile(summarizeProfile(args[0]), top));
