// The text of a timed message: `pb <runId> <sender> <seq> <sentNs>`. The run id tells this run's
// messages from anything else in the room; sender and seq (per sender) let a receiver
// acknowledge; sentNs is process.hrtime.bigint() at sending (CLOCK_MONOTONIC, the same clock in
// every process of the machine, so a forked worker can time what another process sent).

export interface Mark {
  sender: number;
  seq: number;
  sentNs: bigint;
}

export function markText(runId: string, sender: number, seq: number, sentNs: bigint): string {
  return `pb ${runId} ${sender} ${seq} ${sentNs}`;
}

/** The mark in a PRIVMSG text, or null when it is not one of this run's messages. */
export function readMark(runId: string, text: string): Mark | null {
  const parts = text.split(' ');
  if (parts.length !== 5 || parts[0] !== 'pb' || parts[1] !== runId) return null;
  const sender = Number(parts[2]);
  const seq = Number(parts[3]);
  if (!Number.isInteger(sender) || !Number.isInteger(seq) || !/^\d+$/.test(parts[4]!)) return null;
  return { sender, seq, sentNs: BigInt(parts[4]!) };
}
