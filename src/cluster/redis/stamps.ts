/** Script replies to typed values. */
import type { Stamp } from '../events.js';
import { unsegment } from '../keys.js';

/** { seq, time, msgid, epoch } as lib.lua `push_stamp` lays it out. */
export function toStamp(parts: unknown[], version?: number): Stamp {
  const stamp: Stamp = { seq: Number(parts[0]), time: Number(parts[1]), msgid: String(parts[2]), epoch: String(parts[3]) };
  if (version !== undefined) stamp.version = version;
  return stamp;
}

/** A run of { seg, seq, time, msgid, epoch } (lib.lua `announce_rooms`), stamps only. */
export function roomStamps(parts: unknown[]): Stamp[] {
  const stamps: Stamp[] = [];
  for (let i = 0; i + 4 < parts.length; i += 5) stamps.push(toStamp(parts.slice(i + 1, i + 5)));
  return stamps;
}

/** HGETALL's flat list as an object. */
export function pairs(flat: unknown[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
  return out;
}

export { unsegment };
