/**
 * SASL over IRC (IRCv3 `sasl` capability): the PLAIN payload (RFC 4616) and the AUTHENTICATE
 * framing, where a base64 payload travels in 400-byte chunks and '+' stands for "empty" or
 * "that was the last full chunk".
 */

/** Advertised in `CAP LS` as `sasl=PLAIN,SCRAM-SHA-256` and in RPL_SASLMECHS. */
export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export const AUTHENTICATE_CHUNK = 400;
/** Decoded payload limit: far above any real PLAIN or SCRAM message, small enough to buffer. */
export const MAX_SASL_PAYLOAD = 8192;

export interface PlainCredentials {
  /** Empty when the client does not ask to act as someone else. */
  authzid: string;
  authcid: string;
  password: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** `authzid NUL authcid NUL passwd`; null for missing parts, extra NULs or invalid UTF-8. */
export function parsePlain(payload: Buffer): PlainCredentials | null {
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return null;
  }
  const parts = text.split('\0');
  if (parts.length !== 3) return null;
  const [authzid, authcid, password] = parts as [string, string, string];
  if (authcid === '' || password === '') return null;
  return { authzid, authcid, password };
}

/** Splits an encoded payload into AUTHENTICATE parameters ('+' alone for an empty payload). */
export function splitAuthenticate(base64: string): string[] {
  const chunks: string[] = [];
  for (let i = 0; i < base64.length; i += AUTHENTICATE_CHUNK) chunks.push(base64.slice(i, i + AUTHENTICATE_CHUNK));
  // A full last chunk would read as "more to come", so '+' closes it; '' also needs one.
  if (base64.length % AUTHENTICATE_CHUNK === 0) chunks.push('+');
  return chunks;
}

export type AssembleResult = { done: false } | { done: true; payload: Buffer } | { error: 'too-long' | 'invalid-base64' };

const B64_CHARS = /^[A-Za-z0-9+/=]+$/;
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Collects the AUTHENTICATE parameters of one client message. The caller handles '*' (abort)
 * before pushing. After a result other than `{ done: false }` the assembler is empty again and
 * ready for the next message of the exchange.
 */
export class AuthenticateAssembler {
  private chunks: string[] = [];
  private length = 0;
  private readonly maxEncoded: number;

  constructor(private readonly maxPayload: number = MAX_SASL_PAYLOAD) {
    this.maxEncoded = Math.ceil(maxPayload / 3) * 4;
  }

  push(chunk: string): AssembleResult {
    if (chunk === '+') return this.finish();
    if (chunk.length > AUTHENTICATE_CHUNK) return this.fail('too-long');
    if (!B64_CHARS.test(chunk)) return this.fail('invalid-base64');
    this.length += chunk.length;
    // Checked per chunk so a client cannot make us buffer without bound before the end.
    if (this.length > this.maxEncoded) return this.fail('too-long');
    this.chunks.push(chunk);
    return chunk.length === AUTHENTICATE_CHUNK ? { done: false } : this.finish();
  }

  private finish(): AssembleResult {
    const encoded = this.chunks.join('');
    this.reset();
    // Padding in a middle chunk or a ragged length shows up only on the whole text.
    if (!B64.test(encoded)) return { error: 'invalid-base64' };
    const payload = Buffer.from(encoded, 'base64');
    if (payload.length > this.maxPayload) return { error: 'too-long' };
    return { done: true, payload };
  }

  private fail(error: 'too-long' | 'invalid-base64'): AssembleResult {
    this.reset();
    return { error };
  }

  private reset(): void {
    this.chunks = [];
    this.length = 0;
  }
}
