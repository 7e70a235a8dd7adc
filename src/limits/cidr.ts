/**
 * IP addresses and CIDR networks: parsing, matching, and the key per-address limits count by.
 * An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack socket reports for an
 * IPv4 peer) is treated as the IPv4 address everywhere, so one rule covers both spellings.
 */

export interface IpAddress {
  version: 4 | 6;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
}

export interface Cidr {
  ip: IpAddress;
  /** Prefix length: 0-32 for IPv4, 0-128 for IPv6. */
  bits: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseIpv4(text: string): Uint8Array | null {
  const match = IPV4.exec(text);
  if (!match) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = match[i + 1]!;
    // Leading zeros are refused: some parsers read them as octal, so their meaning is ambiguous.
    if (part.length > 1 && part.startsWith('0')) return null;
    const value = Number(part);
    if (value > 255) return null;
    bytes[i] = value;
  }
  return bytes;
}

function parseGroups(text: string, allowIpv4Tail: boolean): number[] | null {
  if (text === '') return [];
  const parts = text.split(':');
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (allowIpv4Tail && i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4(part);
      if (!v4) return null;
      groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else if (HEX_GROUP.test(part)) groups.push(parseInt(part, 16));
    else return null;
  }
  return groups;
}

function parseIpv6(text: string): Uint8Array | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  let groups: number[];
  if (halves.length === 2) {
    const head = parseGroups(halves[0]!, false);
    const tail = parseGroups(halves[1]!, true);
    if (!head || !tail || head.length + tail.length > 7) return null;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = parseGroups(text, true);
    if (!all || all.length !== 8) return null;
    groups = all;
  }
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    bytes[i * 2] = group >> 8;
    bytes[i * 2 + 1] = group & 0xff;
  });
  return bytes;
}

function isMappedIpv4(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/** An IPv4 or IPv6 address, or null. A zone (`fe80::1%eth0`) is ignored. */
export function parseIp(text: string): IpAddress | null {
  const v4 = parseIpv4(text);
  if (v4) return { version: 4, bytes: v4 };
  const zone = text.indexOf('%');
  const v6 = parseIpv6(zone === -1 ? text : text.slice(0, zone));
  if (!v6) return null;
  return isMappedIpv4(v6) ? { version: 4, bytes: v6.slice(12) } : { version: 6, bytes: v6 };
}

/** Text form: dotted IPv4, or IPv6 as RFC 5952 writes it (lower case, longest zero run as `::`). */
export function formatIp(ip: IpAddress): string {
  if (ip.version === 4) return ip.bytes.join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((ip.bytes[i]! << 8) | ip.bytes[i + 1]!);
  let bestStart = -1;
  let bestLength = 1; // a single zero group is not shortened
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = (list: number[]) => list.map((g) => g.toString(16)).join(':');
  if (bestStart === -1) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

/** `::ffff:192.0.2.1` becomes `192.0.2.1`; anything else is returned as it is. */
export function normalizeAddress(address: string): string {
  const ip = parseIp(address);
  if (ip?.version !== 4) return address;
  // The same string when already canonical: every connection keeps its address, and the socket
  // keeps its own copy too.
  const text = formatIp(ip);
  return text === address ? address : text;
}

/** `192.0.2.0/24`, `2001:db8::/32`, or a single address (a /32 or /128). Null if invalid. */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf('/');
  const ip = parseIp(slash === -1 ? text : text.slice(0, slash));
  if (!ip) return null;
  const max = ip.version === 4 ? 32 : 128;
  if (slash === -1) return { ip, bits: max };
  const bitsText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bitsText)) return null;
  let bits = Number(bitsText);
  // A mapped IPv4 network (::ffff:192.0.2.0/120) counts its bits from the IPv6 form.
  if (ip.version === 4 && text.slice(0, slash).includes(':')) bits -= 96;
  if (bits < 0 || bits > max) return null;
  return { ip, bits };
}

export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  if (cidr.ip.version !== ip.version) return false;
  const whole = cidr.bits >> 3;
  for (let i = 0; i < whole; i++) if (cidr.ip.bytes[i] !== ip.bytes[i]) return false;
  const rest = cidr.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (cidr.ip.bytes[whole]! & mask) === (ip.bytes[whole]! & mask);
}

/** The network in canonical text form (`10.0.0.0/8`), host bits cleared. */
export function formatCidr(cidr: Cidr): string {
  const bytes = cidr.ip.bytes.slice();
  for (let bit = cidr.bits; bit < bytes.length * 8; bit++) bytes[bit >> 3]! &= ~(0x80 >> (bit & 7));
  const max = cidr.ip.version === 4 ? 32 : 128;
  const text = formatIp({ version: cidr.ip.version, bytes });
  return cidr.bits === max ? text : `${text}/${cidr.bits}`;
}

/** A list of networks, e.g. the exempt or trusted-proxy addresses from config. */
export class AddressSet {
  private readonly networks: Cidr[];

  /** Throws on an entry that is not an address or CIDR network (config validation catches it first). */
  constructor(entries: readonly string[]) {
    this.networks = entries.map((entry) => {
      const cidr = parseCidr(entry);
      if (!cidr) throw new Error(`not an IP address or CIDR network: ${entry}`);
      return cidr;
    });
  }

  has(address: string): boolean {
    if (this.networks.length === 0) return false;
    const ip = parseIp(address);
    return ip !== null && this.networks.some((cidr) => cidrContains(cidr, ip));
  }
}

/**
 * What per-address limits count by: the IPv4 address, or the IPv6 /64 its holder most likely
 * controls whole (an attacker with one IPv6 /64 has 2^64 addresses). Not an IP: the text itself.
 */
export function addressKey(address: string): string {
  const ip = parseIp(address);
  if (!ip) return address;
  if (ip.version === 4) return formatIp(ip);
  return formatCidr({ ip, bits: 64 });
}
