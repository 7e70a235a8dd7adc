import type { HistoryRef } from '../../store/store.js';

// server-time's format (YYYY-MM-DDThh:mm:ss.sssZ); fractions and offsets are accepted too.
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;

/** Milliseconds since the epoch from an ISO 8601 time, or null if it is not one. */
export function parseIsoTime(text: string): number | null {
  if (!ISO_TIME.test(text)) return null;
  const time = Date.parse(text);
  return Number.isFinite(time) ? time : null;
}

/** `timestamp=<ISO 8601>` (CHATHISTORY, MARKREAD), or null. */
export function parseTimestampParam(param: string): number | null {
  return param.startsWith('timestamp=') ? parseIsoTime(param.slice('timestamp='.length)) : null;
}

/** A CHATHISTORY message reference: `msgid=<id>` or `timestamp=<ISO 8601>` (MSGREFTYPES). */
export function parseRef(param: string): HistoryRef | null {
  if (param.startsWith('msgid=')) {
    const msgid = param.slice('msgid='.length);
    return msgid === '' ? null : { msgid };
  }
  const time = parseTimestampParam(param);
  return time === null ? null : { time };
}

export function isoTime(time: number): string {
  return new Date(time).toISOString();
}
