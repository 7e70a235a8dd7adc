/**
 * The PROXY protocol (HAProxy, www.haproxy.org/download/2.9/doc/proxy-protocol.txt): a load
 * balancer sends one header before the client's bytes, naming the real client address.
 * Version 1 is a text line, version 2 binary; both are accepted on a proxy listener.
 */
import { formatIp, normalizeAddress, parseIp } from '../limits/cidr.js';

export interface ProxyHeader {
  /** The client's address, or null when the proxy did not name one (v1 UNKNOWN, v2 LOCAL). */
  address: string | null;
  /** v2 only: the client reached the proxy over TLS (PP2_TYPE_SSL with PP2_CLIENT_SSL). */
  secure: boolean;
  /** Bytes the header took; the client's own bytes follow. */
  length: number;
}

export type ProxyParse =
  | { kind: 'incomplete' }
  | { kind: 'header'; header: ProxyHeader }
  | { kind: 'invalid'; reason: string };

/** v1 lines are at most 107 bytes with CRLF (spec section 2.1). */
const V1_MAX = 107;
/** v2 headers may carry TLVs; more than this is not a header any proxy we know sends. */
export const MAX_PROXY_HEADER_BYTES = 4096;
const V1_PREFIX = Buffer.from('PROXY ');
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const PP2_TYPE_SSL = 0x20;
const PP2_CLIENT_SSL = 0x01;

const INCOMPLETE: ProxyParse = { kind: 'incomplete' };
const invalid = (reason: string): ProxyParse => ({ kind: 'invalid', reason });

/** Parse the header at the start of `data`: complete, not yet complete, or not a header. */
export function parseProxyHeader(data: Buffer): ProxyParse {
  if (startsWithPrefixOf(data, V2_SIGNATURE)) return data.length < 16 ? INCOMPLETE : parseV2(data);
  if (startsWithPrefixOf(data, V1_PREFIX)) return data.length < V1_PREFIX.length ? INCOMPLETE : parseV1(data);
  return invalid('not a PROXY protocol header');
}

/** True if `data` and `prefix` agree on their common length. */
function startsWithPrefixOf(data: Buffer, prefix: Buffer): boolean {
  const n = Math.min(data.length, prefix.length);
  return data.subarray(0, n).equals(prefix.subarray(0, n));
}

// PROXY TCP4 <src> <dst> <sport> <dport>\r\n   |   PROXY UNKNOWN ...\r\n
function parseV1(data: Buffer): ProxyParse {
  const end = data.subarray(0, V1_MAX).indexOf('\r\n');
  if (end === -1) return data.length >= V1_MAX ? invalid('PROXY v1 line too long') : INCOMPLETE;
  const length = end + 2;
  const parts = data.subarray(0, end).toString('latin1').split(' ');
  const family = parts[1];
  if (family === 'UNKNOWN') return { kind: 'header', header: { address: null, secure: false, length } };
  if ((family !== 'TCP4' && family !== 'TCP6') || parts.length !== 6) return invalid('malformed PROXY v1 line');
  const [, , source, , sourcePort, destPort] = parts as [string, string, string, string, string, string];
  const ok = parseIp(source) !== null && source.includes(':') === (family === 'TCP6');
  if (!ok || !isPort(sourcePort) || !isPort(destPort)) return invalid('malformed PROXY v1 address');
  return { kind: 'header', header: { address: normalizeAddress(source), secure: false, length } };
}

function parseV2(data: Buffer): ProxyParse {
  const versionCommand = data[12]!;
  if (versionCommand >> 4 !== 2) return invalid('unsupported PROXY protocol version');
  const command = versionCommand & 0x0f;
  if (command > 1) return invalid('unknown PROXY v2 command');
  const length = 16 + data.readUInt16BE(14);
  if (length > MAX_PROXY_HEADER_BYTES) return invalid('PROXY v2 header too long');
  if (data.length < length) return INCOMPLETE;
  const body = data.subarray(16, length);
  // LOCAL: the proxy speaks for itself (health checks); the peer address stands.
  if (command === 0) return { kind: 'header', header: { address: null, secure: false, length } };
  const family = data[13]! >> 4;
  let address: string | null = null;
  let tlvStart = 0;
  if (family === 1) {
    if (body.length < 12) return invalid('PROXY v2 IPv4 block too short');
    address = formatIp({ version: 4, bytes: body.subarray(0, 4) });
    tlvStart = 12;
  } else if (family === 2) {
    if (body.length < 36) return invalid('PROXY v2 IPv6 block too short');
    address = normalizeAddress(formatIp({ version: 6, bytes: body.subarray(0, 16) }));
    tlvStart = 36;
  } else if (family === 3) {
    tlvStart = Math.min(body.length, 216); // AF_UNIX: two 108-byte paths, no address to use
  }
  return { kind: 'header', header: { address, secure: clientUsedTls(body.subarray(tlvStart)), length } };
}

/** Walk the TLVs for PP2_TYPE_SSL; a malformed TLV list ends the walk, it does not refuse. */
function clientUsedTls(tlvs: Buffer): boolean {
  let pos = 0;
  while (pos + 3 <= tlvs.length) {
    const type = tlvs[pos]!;
    const size = tlvs.readUInt16BE(pos + 1);
    if (pos + 3 + size > tlvs.length) return false;
    if (type === PP2_TYPE_SSL && size >= 1) return (tlvs[pos + 3]! & PP2_CLIENT_SSL) !== 0;
    pos += 3 + size;
  }
  return false;
}

function isPort(text: string): boolean {
  return /^\d{1,5}$/.test(text) && Number(text) <= 65535;
}
