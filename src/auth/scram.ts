/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677) without channel binding: credential derivation, the
 * server-side state machine and a client for our own client engine and tests.
 *
 * Exchange as carried over IRC AUTHENTICATE (one `step` per decoded client message):
 *
 *   client-first  ->  server-first  (reply)
 *   client-final  ->  server-final `v=...` (reply; proof already verified)
 *   ''            ->  done          (IRC cannot attach data to a success, so the server-final
 *                                    goes out as a challenge and the client acks with `+`)
 *
 * Passwords go through saslPrep (an approximation of SASLprep: mapping + NFKC, see saslprep.ts).
 * Usernames are used as sent after saslname unescaping; they are not SASLprep'd.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { ScramCredentials } from '../store/store.js';
import { foldCase } from '../protocol/casemap.js';
import {
  KEY_BYTES,
  decodeBase64,
  escapeSaslName,
  hmac,
  isValidNonce,
  keysFrom,
  parseAttributes,
  safeEqual,
  saltedPassword,
  sha256,
  unescapeSaslName,
  xor,
} from './scram-primitives.js';

export type { ScramCredentials };

/** RFC 7677's minimum. Higher costs every login only on the client; the server never runs PBKDF2. */
export const DEFAULT_SCRAM_ITERATIONS = 4096;
const SALT_BYTES = 16;
const NONCE_BYTES = 24;

export function deriveScramCredentials(
  password: string,
  iterations: number = DEFAULT_SCRAM_ITERATIONS,
  salt: Buffer = randomBytes(SALT_BYTES),
): ScramCredentials {
  if (!Number.isInteger(iterations) || iterations < 1) throw new RangeError('iterations must be a positive integer');
  const { storedKey, serverKey } = keysFrom(saltedPassword(password, salt, iterations));
  return {
    salt: salt.toString('base64'),
    iterations,
    storedKey: storedKey.toString('base64'),
    serverKey: serverKey.toString('base64'),
  };
}

/**
 * Failure reasons. RFC 5802 server-error-values where one fits; the last three are ours.
 * They are for logs: over IRC every failure is the same 904.
 */
export type ScramError =
  | 'invalid-encoding'
  | 'extensions-not-supported'
  | 'channel-binding-not-supported'
  | 'channel-bindings-dont-match'
  | 'invalid-proof'
  | 'invalid-authzid'
  | 'nonce-mismatch'
  | 'unexpected-message';

export interface ScramStepResult {
  reply?: string;
  done?: { authcid: string };
  error?: ScramError;
}

export interface ScramServerOptions {
  /** Fixed server nonce, for test vectors only; normally 24 random bytes, base64. */
  serverNonce?: string;
  /** Iteration count advertised for unknown users; set it to what real accounts use. */
  fakeIterations?: number;
}

type Lookup = (username: string) => Promise<ScramCredentials | null>;

// Keys the fake salts of unknown users: stable within the process (a retry sees the same salt,
// as it would for a real account) yet unpredictable, so salts cannot be compared offline.
const FAKE_SALT_SECRET = randomBytes(32);

interface Pending {
  authcid: string;
  gs2Header: string;
  clientFirstBare: string;
  serverFirst: string;
  nonce: string;
  // null for an unknown user: the proof is still checked (against random keys) and then refused.
  credentials: { storedKey: Buffer; serverKey: Buffer } | null;
}

export class ScramServer {
  private state: 'first' | 'final' | 'ack' | 'over' = 'first';
  private pending: Pending | null = null;

  constructor(
    private readonly lookup: Lookup,
    private readonly options: ScramServerOptions = {},
  ) {}

  /** Never throws for bad input; a rejection from `lookup` propagates. Any error ends the exchange. */
  async step(clientMessage: string): Promise<ScramStepResult> {
    const state = this.state;
    // Every exchange is single-use: whatever happens below, a failed step is final.
    this.state = 'over';
    switch (state) {
      case 'first':
        return this.first(clientMessage);
      case 'final':
        return this.final(clientMessage);
      case 'ack':
        return clientMessage === '' ? { done: { authcid: this.pending!.authcid } } : { error: 'unexpected-message' };
      case 'over':
        return { error: 'unexpected-message' };
    }
  }

  private async first(message: string): Promise<ScramStepResult> {
    // gs2-header = cbind-flag "," [authzid] ","  then client-first-message-bare.
    const comma1 = message.indexOf(',');
    const comma2 = message.indexOf(',', comma1 + 1);
    if (comma1 < 0 || comma2 < 0) return { error: 'invalid-encoding' };
    const flag = message.slice(0, comma1);
    const authzPart = message.slice(comma1 + 1, comma2);
    const bare = message.slice(comma2 + 1);
    if (flag.startsWith('p=')) return { error: 'channel-binding-not-supported' };
    // 'y' means "I could bind but you don't offer it", which is true: we offer no -PLUS.
    if (flag !== 'n' && flag !== 'y') return { error: 'invalid-encoding' };
    if (authzPart !== '' && !authzPart.startsWith('a=')) return { error: 'invalid-encoding' };

    const attrs = parseAttributes(bare);
    if (!attrs) return { error: 'invalid-encoding' };
    if (attrs[0]?.key === 'm') return { error: 'extensions-not-supported' };
    const [user, nonce] = attrs;
    if (user?.key !== 'n' || nonce?.key !== 'r' || !isValidNonce(nonce.value)) return { error: 'invalid-encoding' };
    const authcid = unescapeSaslName(user.value);
    if (authcid === null) return { error: 'invalid-encoding' };
    if (authzPart.length > 2) {
      const authzid = unescapeSaslName(authzPart.slice(2));
      if (authzid === null) return { error: 'invalid-encoding' };
      // Acting as someone else is not something we offer; naming yourself is harmless.
      if (authzid !== authcid) return { error: 'invalid-authzid' };
    }

    const found = await this.lookup(authcid);
    const known = found ? decodeCredentials(found) : null;
    const salt = known ? found!.salt : fakeSalt(authcid);
    const iterations = known ? found!.iterations : (this.options.fakeIterations ?? DEFAULT_SCRAM_ITERATIONS);
    const combined = nonce.value + (this.options.serverNonce ?? randomBytes(NONCE_BYTES).toString('base64'));
    const serverFirst = `r=${combined},s=${salt},i=${iterations}`;

    this.pending = {
      authcid,
      gs2Header: message.slice(0, comma2 + 1),
      clientFirstBare: bare,
      serverFirst,
      nonce: combined,
      credentials: known,
    };
    this.state = 'final';
    return { reply: serverFirst };
  }

  private final(message: string): ScramStepResult {
    const p = this.pending!;
    const proofAt = message.lastIndexOf(',p=');
    if (proofAt < 0) return { error: 'invalid-encoding' };
    const withoutProof = message.slice(0, proofAt);
    const attrs = parseAttributes(withoutProof);
    const proof = decodeBase64(message.slice(proofAt + 3));
    if (!attrs || !proof) return { error: 'invalid-encoding' };
    const [binding, nonce] = attrs;
    if (binding?.key !== 'c' || nonce?.key !== 'r') return { error: 'invalid-encoding' };
    // Without channel binding the c= value is just the gs2 header echoed back ('biws' for
    // "n,,", 'eSws' for "y,,"); a mismatch means someone rewrote the first message.
    if (binding.value !== Buffer.from(p.gs2Header, 'utf8').toString('base64')) {
      return { error: 'channel-bindings-dont-match' };
    }
    if (nonce.value !== p.nonce) return { error: 'nonce-mismatch' };

    // Unknown users run the same computation against random keys so timing does not tell.
    const { storedKey, serverKey } = p.credentials ?? { storedKey: randomBytes(KEY_BYTES), serverKey: randomBytes(KEY_BYTES) };
    const authMessage = `${p.clientFirstBare},${p.serverFirst},${withoutProof}`;
    const clientSignature = hmac(storedKey, authMessage);
    const valid = proof.length === KEY_BYTES && safeEqual(sha256(xor(proof, clientSignature)), storedKey);
    if (!valid || p.credentials === null) return { error: 'invalid-proof' };

    this.state = 'ack';
    return { reply: `v=${hmac(serverKey, authMessage).toString('base64')}` };
  }
}

function decodeCredentials(c: ScramCredentials): { storedKey: Buffer; serverKey: Buffer } | null {
  const storedKey = decodeBase64(c.storedKey);
  const serverKey = decodeBase64(c.serverKey);
  // A damaged record behaves like an unknown user: a plausible exchange that cannot succeed.
  if (!storedKey || !serverKey || storedKey.length !== KEY_BYTES || !decodeBase64(c.salt)) return null;
  if (!Number.isInteger(c.iterations) || c.iterations < 1) return null;
  return { storedKey, serverKey };
}

function fakeSalt(username: string): string {
  // Folded like account keys, so 'Alice' and 'alice' get one salt for unknown users too,
  // exactly as they would share one real account.
  const mac = createHmac('sha256', FAKE_SALT_SECRET).update(foldCase(username), 'utf8').digest();
  return mac.subarray(0, SALT_BYTES).toString('base64');
}

export interface ScramClientOptions {
  /** Fixed client nonce, for test vectors only. */
  nonce?: string;
  /** Refuse server-first messages asking for more PBKDF2 work than this (a hostile server could stall us). */
  maxIterations?: number;
}

/** Client half. `final` throws on a malformed or mismatching server-first message. */
export class ScramClient {
  private readonly clientFirstBare: string;
  private readonly nonce: string;
  private expectedServerSignature: Buffer | null = null;

  constructor(
    username: string,
    private readonly password: string,
    private readonly options: ScramClientOptions = {},
  ) {
    this.nonce = options.nonce ?? randomBytes(NONCE_BYTES).toString('base64');
    this.clientFirstBare = `n=${escapeSaslName(username)},r=${this.nonce}`;
  }

  first(): string {
    return `n,,${this.clientFirstBare}`;
  }

  final(serverFirst: string): string {
    const attrs = parseAttributes(serverFirst);
    if (!attrs) throw new Error('SCRAM: malformed server-first message');
    if (attrs[0]?.key === 'm') throw new Error('SCRAM: unsupported mandatory extension');
    const [nonce, salt64, iter] = attrs;
    if (nonce?.key !== 'r' || salt64?.key !== 's' || iter?.key !== 'i') throw new Error('SCRAM: malformed server-first message');
    if (!nonce.value.startsWith(this.nonce) || nonce.value.length === this.nonce.length || !isValidNonce(nonce.value)) {
      throw new Error('SCRAM: server nonce does not extend ours');
    }
    const salt = decodeBase64(salt64.value);
    const iterations = /^[1-9]\d{0,9}$/.test(iter.value) ? Number(iter.value) : NaN;
    if (!salt || salt.length === 0) throw new Error('SCRAM: invalid salt');
    if (!(iterations <= (this.options.maxIterations ?? 1_000_000))) throw new Error('SCRAM: invalid iteration count');

    const { clientKey, storedKey, serverKey } = keysFrom(saltedPassword(this.password, salt, iterations));
    const withoutProof = `c=biws,r=${nonce.value}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const proof = xor(clientKey, hmac(storedKey, authMessage));
    this.expectedServerSignature = hmac(serverKey, authMessage);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** True if the server proved it knows our credentials; false for `e=...` or anything else. */
  verify(serverFinal: string): boolean {
    // Only the first attribute matters; RFC 5802 lets extensions follow it.
    const first = serverFinal.split(',')[0]!;
    if (!this.expectedServerSignature || !first.startsWith('v=')) return false;
    const signature = decodeBase64(first.slice(2));
    return signature !== null && safeEqual(signature, this.expectedServerSignature);
  }
}
