import { randomBytes } from 'node:crypto';

const B32 = '0123456789abcdefghijklmnopqrstuv';

/**
 * A node id: 6 random base-32 characters (30 bits). Random rather than a Redis counter so ids
 * stay unique after Redis loses its data; registration still refuses an id that is in use.
 */
export function newNodeId(): string {
  const bytes = randomBytes(6);
  let id = '';
  for (const b of bytes) id += B32[b & 31];
  return id;
}

/** A random token (lease tokens, log epochs). */
export function newToken(): string {
  return randomBytes(9).toString('base64url');
}

/** Milliseconds as 9 base-32 digits: fixed width, so msgids sort by time (lib.lua time32). */
export function time32(ms: number): string {
  let out = '';
  for (let i = 0; i < 9; i++) {
    const d = ms % 32;
    out = B32[d] + out;
    ms = (ms - d) / 32;
  }
  return out;
}

/**
 * Per-node counters: TS6-style uids (node id + 6 base-36 digits, fixed width) and msgid
 * suffixes (node id + a counter), which make msgids unique without asking Redis.
 */
export class IdSource {
  private users = 0;
  private events = 0;

  constructor(readonly node: string) {}

  uid(): string {
    return `${this.node}${(this.users++).toString(36).padStart(6, '0')}`;
  }

  suffix(): string {
    return `${this.node}${(this.events++).toString(36)}`;
  }
}
