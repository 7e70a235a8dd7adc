import type { Server } from '../server.js';
import type { Session } from '../session.js';

/** How often a reply that waits for its client to read is looked at again (as input-gate.ts does). */
const OUTPUT_RETRY_MS = 50;

/**
 * Resolves once the client has read its output down to SendQ (limits.sendq_bytes), or has gone.
 * A reply built page by page (LIST, a WHO mask over every node) waits here between pages, so a
 * client that does not read holds at most SendQ plus one page, whatever the limits allow.
 */
export async function outputRead(server: Server, session: Session): Promise<void> {
  while (session.state !== 'closing' && session.conn.queuedBytes > server.config.limits.sendq_bytes) {
    await new Promise<void>((resolve) => setTimeout(resolve, OUTPUT_RETRY_MS).unref());
  }
}
