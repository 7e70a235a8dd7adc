/**
 * SASL over IRC AUTHENTICATE (https://ircv3.net/specs/extensions/sasl-3.1): mechanisms and the
 * 400-byte chunking. Browser-safe; SCRAM is plugged in (node-scram.ts on Node).
 */
import { base64ToUtf8, utf8ToBase64 } from './base64.js';

/**
 * One login attempt. `respond` gets each server challenge (decoded; '' for `+`) and returns the
 * client's next message (encoded here), or throws to abort the exchange.
 */
export interface SaslMechanism {
  readonly name: string;
  respond(challenge: string): string | Promise<string>;
}

export type SaslMechanismFactory = (account: string, password: string) => SaslMechanism;

export function plainMechanism(account: string, password: string): SaslMechanism {
  return { name: 'PLAIN', respond: () => `${account}\0${account}\0${password}` };
}

const CHUNK = 400;

/** A client message as AUTHENTICATE parameters: 400-character pieces, `+` for empty or a final full piece. */
export function authenticateChunks(message: string): string[] {
  const encoded = utf8ToBase64(message);
  const chunks: string[] = [];
  for (let i = 0; i < encoded.length; i += CHUNK) chunks.push(encoded.slice(i, i + CHUNK));
  if (encoded.length % CHUNK === 0) chunks.push('+');
  return chunks;
}

/** Reassembles server challenges split over several AUTHENTICATE lines. */
export class ChallengeAssembler {
  private pending = '';

  /** The decoded challenge once complete, `undefined` while more is coming, null if it is not base64. */
  push(param: string): string | null | undefined {
    if (param === '+') {
      const whole = this.pending;
      this.pending = '';
      return whole === '' ? '' : base64ToUtf8(whole);
    }
    this.pending += param;
    if (param.length === CHUNK) return undefined;
    const whole = this.pending;
    this.pending = '';
    return base64ToUtf8(whole);
  }
}

/**
 * Pick a mechanism: the one asked for, else SCRAM-SHA-256 when both sides have it (the password
 * never crosses the wire), else PLAIN. `offered` is the `sasl` cap value; empty means unknown.
 */
export function chooseMechanism(
  offered: string[],
  preferred: string | undefined,
  scram: SaslMechanismFactory | undefined,
): 'PLAIN' | 'SCRAM-SHA-256' | null {
  const has = (name: string) => offered.length === 0 || offered.includes(name);
  if (preferred === 'PLAIN') return has('PLAIN') ? 'PLAIN' : null;
  if (preferred === 'SCRAM-SHA-256') return scram && has('SCRAM-SHA-256') ? 'SCRAM-SHA-256' : null;
  if (scram && offered.includes('SCRAM-SHA-256')) return 'SCRAM-SHA-256';
  return has('PLAIN') ? 'PLAIN' : null;
}
