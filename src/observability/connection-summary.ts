import type { Logger } from './logger.js';

/** Counts since start, as `Metrics.connectionTotals` gives them. */
export interface ConnectionTotals {
  accepted: number;
  refused: number;
  closed: number;
}

/**
 * Connections are logged one by one at debug only (an attacker's connect loop must not flood
 * the log); at info, one `connections` line per interval says how many were accepted, refused
 * and closed in it and how many are open, and nothing for an interval without any.
 * Returns the function that stops it.
 */
export function startConnectionSummary(totals: () => ConnectionTotals, open: () => number, logger: Logger, intervalMs = 60_000): () => void {
  let last = totals();
  const timer = setInterval(() => {
    const now = totals();
    const accepted = now.accepted - last.accepted;
    const refused = now.refused - last.refused;
    const closed = now.closed - last.closed;
    last = now;
    if (accepted + refused + closed === 0) return;
    logger.info('connections', { accepted, refused, closed, open: open(), seconds: intervalMs / 1000 });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
