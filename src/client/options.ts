import type { BackoffOptions } from './backoff.js';
import type { LivenessSettings } from './liveness.js';
import type { SaslMechanismFactory } from './sasl.js';
import type { Transport } from './transport.js';

export interface SaslCredentials {
  account: string;
  password: string;
  /** Leave unset to pick SCRAM-SHA-256 when possible, else PLAIN. */
  mechanism?: 'PLAIN' | 'SCRAM-SHA-256';
}

export interface ClientOptions {
  transport: Transport;
  nick: string;
  /** @default the nick */
  username?: string;
  /** @default the nick */
  realname?: string;
  /** Server password (PASS). */
  serverPassword?: string;
  /** Log in with SASL while connecting. */
  sasl?: SaslCredentials;
  /** Create this account while connecting (draft/account-registration), then use it. */
  register?: { account: string; password: string; email?: string };
  /** SCRAM-SHA-256 for this platform (node-scram.ts on Node). Without it, PLAIN only. */
  scram?: SaslMechanismFactory;
  /** Capabilities to ask for when offered. @default WANTED_CAPS (registration.ts) */
  caps?: string[];
  /** Rooms to join once connected (and after every reconnect). */
  rooms?: string[];
  /** Reconnect back-off; false: never reconnect. @default DEFAULT_BACKOFF */
  reconnect?: Partial<BackoffOptions> | false;
  /**
   * Retry when the very first connection fails before the welcome. false: give up instead
   * (`disconnected` with willReconnect false): a wrong address or an untrusted certificate
   * does not fix itself, and back-off is for connections that worked once. @default true
   */
  retryFirstConnection?: boolean;
  /** false: no liveness check. @default { idleMs: 60000, timeoutMs: 30000 } */
  liveness?: LivenessSettings | false;
  /** Messages fetched on joining a room, and per catch-up request. @default { joinLimit: 50, catchUpLimit: 100 } */
  history?: { joinLimit?: number; catchUpLimit?: number };
  /** @default 15000 */
  requestTimeoutMs?: number;
  /** Source of randomness for the back-off jitter; tests pass a fixed one. */
  random?: () => number;
  /** A listener threw: where to report it. @default console.error */
  onListenerError?: (err: unknown) => void;
}
