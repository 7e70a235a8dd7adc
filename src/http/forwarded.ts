import { normalizeAddress, parseIp, type AddressSet } from '../limits/cidr.js';

/**
 * The real client address of an HTTP (WebSocket) request behind reverse proxies.
 *
 * `X-Forwarded-For` is believed only when the peer itself is a trusted proxy, and then only as
 * far as trusted proxies reach: the list is read right to left (each proxy appends the address
 * it saw), skipping trusted proxies; the first untrusted address is the client. Anything
 * before it was written by the client and could be forged. A malformed entry ends the walk at
 * the last address known good.
 */
export function forwardedClientAddress(peer: string, forwardedFor: string | string[] | undefined, trusted: AddressSet): string {
  let client = normalizeAddress(peer);
  if (forwardedFor === undefined || !trusted.has(client)) return client;
  // Several X-Forwarded-For headers are one list, in order (RFC 9110 section 5.3).
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = stripPort(hops[i]!.trim());
    if (parseIp(hop) === null) return client;
    client = normalizeAddress(hop);
    if (!trusted.has(client)) return client;
  }
  return client;
}

/** `192.0.2.1:4711` and `[2001:db8::1]:4711` as some proxies write them; bare addresses pass. */
function stripPort(hop: string): string {
  if (hop.startsWith('[')) {
    const close = hop.indexOf(']');
    return close === -1 ? hop : hop.slice(1, close);
  }
  const colon = hop.indexOf(':');
  return colon !== -1 && colon === hop.lastIndexOf(':') ? hop.slice(0, colon) : hop;
}
