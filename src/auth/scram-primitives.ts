/**
 * Building blocks of SCRAM-SHA-256 (RFC 5802, RFC 7677): the key schedule and the message
 * syntax. Shared by the server and client halves in scram.ts.
 */
import { createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { saslPrep } from './saslprep.js';

export const KEY_BYTES = 32;

export function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

export function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

export function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

export function saltedPassword(password: string, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(saslPrep(password), salt, iterations, KEY_BYTES, 'sha256');
}

export function keysFrom(salted: Buffer): { clientKey: Buffer; storedKey: Buffer; serverKey: Buffer } {
  const clientKey = hmac(salted, 'Client Key');
  return { clientKey, storedKey: sha256(clientKey), serverKey: hmac(salted, 'Server Key') };
}

/** Constant-time equality that tolerates differing lengths (which are not secret here). */
export function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict padded base64 (RFC 5802's `base64`), or null. */
export function decodeBase64(text: string): Buffer | null {
  return B64.test(text) ? Buffer.from(text, 'base64') : null;
}

/** `saslname` encoding: ',' and '=' would break the attribute syntax, so they are escaped. */
export function escapeSaslName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/** Inverse of escapeSaslName; null for any other '=' sequence, an empty name or a NUL. */
export function unescapeSaslName(text: string): string | null {
  if (text === '' || text.includes('\0')) return null;
  const decoded = text.replace(/=2C|=3D/g, (seq) => (seq === '=2C' ? ',' : '='));
  // A leftover '=' means an escape other than =2C/=3D; checking the input (not the output,
  // where '=' legitimately appears) keeps '=3D2C' decoding to '=2C'.
  return text.replace(/=2C|=3D/g, '').includes('=') ? null : decoded;
}

/** printable except ',' (RFC 5802 `c-nonce`/`s-nonce`). */
export function isValidNonce(nonce: string): boolean {
  return /^[\x21-\x2B\x2D-\x7E]+$/.test(nonce);
}

export interface Attribute {
  key: string;
  value: string;
}

/** Splits `k=v,k=v,...`; null if any part is not a single letter, '=' and a value. */
export function parseAttributes(text: string): Attribute[] | null {
  const out: Attribute[] = [];
  for (const part of text.split(',')) {
    if (!/^[A-Za-z]=/.test(part)) return null;
    out.push({ key: part[0]!, value: part.slice(2) });
  }
  return out;
}
