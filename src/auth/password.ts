/**
 * Password storage with scrypt (memory-hard, so GPU guessing of a stolen database is costly).
 *
 * Encoded format (PHC string style, one line, safe to store as text):
 *
 *   $scrypt$ln=<log2 N>,r=<block size>,p=<parallelism>$<salt>$<hash>
 *
 * salt and hash are standard base64 without padding; the key length is the decoded hash length.
 * Everything needed to verify is in the string, so the configured parameters can change later
 * without invalidating stored hashes (`needsRehash` tells when to re-hash after a login).
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { saslPrep } from './saslprep.js';

export interface ScryptParams {
  /** CPU/memory cost, a power of two (encoded as its log2, `ln`). Memory is about 128 * N * r bytes. */
  N: number;
  r: number;
  p: number;
  /** Bytes of derived key stored. */
  keyLength: number;
  /** Bytes of random salt per hash. */
  saltLength: number;
}

/** 2^15 * 8 * 128 bytes = 32 MiB; about 150-200 ms per hash on a 2-core VM (libuv thread pool, not the event loop). */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({
  N: 2 ** 15,
  r: 8,
  p: 1,
  keyLength: 32,
  saltLength: 16,
});

// Bounds apply to hashing and verifying alike: verify reads parameters from stored strings, and
// a corrupted or hostile string must not make it allocate gigabytes or spin for minutes.
const MAX_MEMORY = 1024 * 1024 * 1024;
const MAX_P = 16;
const KEY_LENGTH = { min: 16, max: 128 };
const SALT_LENGTH = { min: 8, max: 128 };

const B64 = /^[A-Za-z0-9+/]+$/;
const ENCODED = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,3}),p=(\d{1,2})\$([^$]+)\$([^$]+)$/;

export async function hashPassword(password: string, params: Partial<ScryptParams> = {}): Promise<string> {
  const full: ScryptParams = { ...DEFAULT_SCRYPT_PARAMS, ...params };
  const problem = checkParams(full);
  if (problem) throw new RangeError(`invalid scrypt parameters: ${problem}`);
  const salt = randomBytes(full.saltLength);
  const hash = await derive(password, salt, full);
  const ln = Math.log2(full.N);
  return `$scrypt$ln=${ln},r=${full.r},p=${full.p}$${unpadded(salt)}$${unpadded(hash)}`;
}

/** True only if `password` matches; false for a wrong password or any malformed `encoded`. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parseEncoded(encoded);
  if (!parsed) return false;
  try {
    const actual = await derive(password, parsed.salt, parsed.params);
    return timingSafeEqual(actual, parsed.hash);
  } catch {
    return false;
  }
}

/** True if `encoded` was made with other parameters than `params` (or cannot be read at all). */
export function needsRehash(encoded: string, params: Partial<ScryptParams> = {}): boolean {
  const want: ScryptParams = { ...DEFAULT_SCRYPT_PARAMS, ...params };
  const parsed = parseEncoded(encoded);
  if (!parsed) return true;
  const have = parsed.params;
  return (
    have.N !== want.N ||
    have.r !== want.r ||
    have.p !== want.p ||
    have.keyLength !== want.keyLength ||
    have.saltLength !== want.saltLength
  );
}

function checkParams({ N, r, p, keyLength, saltLength }: ScryptParams): string | null {
  if (!Number.isInteger(N) || N < 2 || (N & (N - 1)) !== 0) return 'N must be a power of two >= 2';
  if (!Number.isInteger(r) || r < 1) return 'r must be a positive integer';
  if (!Number.isInteger(p) || p < 1 || p > MAX_P) return `p must be an integer in 1..${MAX_P}`;
  if (128 * N * r > MAX_MEMORY) return 'N * r needs more than 1 GiB';
  if (!Number.isInteger(keyLength) || keyLength < KEY_LENGTH.min || keyLength > KEY_LENGTH.max) {
    return `keyLength must be in ${KEY_LENGTH.min}..${KEY_LENGTH.max}`;
  }
  if (!Number.isInteger(saltLength) || saltLength < SALT_LENGTH.min || saltLength > SALT_LENGTH.max) {
    return `saltLength must be in ${SALT_LENGTH.min}..${SALT_LENGTH.max}`;
  }
  return null;
}

interface Parsed {
  params: ScryptParams;
  salt: Buffer;
  hash: Buffer;
}

function parseEncoded(encoded: string): Parsed | null {
  if (typeof encoded !== 'string') return null;
  const m = ENCODED.exec(encoded);
  if (!m) return null;
  const [, ln, r, p, salt64, hash64] = m as unknown as [string, string, string, string, string, string];
  const salt = decodeUnpadded(salt64);
  const hash = decodeUnpadded(hash64);
  if (!salt || !hash) return null;
  const params: ScryptParams = {
    N: 2 ** Number(ln),
    r: Number(r),
    p: Number(p),
    keyLength: hash.length,
    saltLength: salt.length,
  };
  return checkParams(params) ? null : { params, salt, hash };
}

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const { N, r, p, keyLength } = params;
  // Node refuses when roughly 128 * N * r exceeds maxmem (default 32 MiB, which the defaults
  // already hit); the B buffer (128 * r * p) comes on top, doubled for headroom.
  const options: ScryptOptions = { N, r, p, maxmem: 2 * 128 * r * (N + p + 2) };
  return new Promise((resolve, reject) => {
    scrypt(saslPrep(password), salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function unpadded(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}

function decodeUnpadded(text: string): Buffer | null {
  // Buffer.from skips junk silently, so check the alphabet and that the length is possible.
  if (!B64.test(text) || text.length % 4 === 1) return null;
  return Buffer.from(text, 'base64');
}
