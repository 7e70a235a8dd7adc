import type { Server } from './server.js';
import type { Session } from './session.js';

/**
 * The IRCv3 STS policy (ircv3.net/specs/extensions/sts) as this session should see it, or null
 * if none is configured. A plain-text client is told where to reconnect securely (`port`, with
 * the duration as well); a TLS client gets the persistence policy (`duration`). The cap is only
 * listed, never requested: CAP REQ sts is NAKed like any unknown cap, as the spec allows.
 */
export function stsPolicy(server: Server, session: Session): string | null {
  const { sts_duration_seconds: duration, sts_port, sts_preload } = server.config.tls;
  if (duration === null) return null;
  const preload = sts_preload ? ',preload' : '';
  if (session.conn.secure) return `duration=${duration}${preload}`;
  const port = sts_port ?? server.tlsPort;
  return port === null ? null : `port=${port},duration=${duration}${preload}`;
}
