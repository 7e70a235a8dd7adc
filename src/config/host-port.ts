import { isIPv6 } from 'node:net';

export interface HostPort {
  host: string;
  port: number;
}

// Hostnames and IPv4 literals. A bare (unbracketed) IPv6 address is rejected
// because "::1:6667" is ambiguous about where the port starts.
const PLAIN_HOST = /^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/;

/** Returns the parsed address, or a human-readable reason it is invalid. */
export function checkHostPort(s: string): HostPort | string {
  const expected = `expected HOST:PORT, got ${JSON.stringify(s)}`;
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([^:]*)$/.exec(s);
  if (!m) return expected;
  const [, bracketed, plain, portText] = m as unknown as [string, string | undefined, string | undefined, string];

  let host: string;
  if (bracketed !== undefined) {
    if (!isIPv6(bracketed)) return `${JSON.stringify(bracketed)} is not a valid IPv6 address (in ${JSON.stringify(s)})`;
    host = bracketed;
  } else {
    if (!plain) return `missing host (${expected}; use 0.0.0.0 or [::] for all interfaces)`;
    if (!PLAIN_HOST.test(plain)) return `${JSON.stringify(plain)} is not a valid host name or IPv4 address (in ${JSON.stringify(s)})`;
    host = plain;
  }

  if (!/^\d{1,5}$/.test(portText)) return `port must be a number 0..65535 (${expected})`;
  const port = Number(portText);
  if (port > 65535) return `port must be 0..65535, got ${port} (in ${JSON.stringify(s)})`;
  return { host, port };
}
