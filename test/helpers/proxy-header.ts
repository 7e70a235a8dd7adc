/** PROXY protocol headers as a load balancer would send them, for tests. */

export function proxyV1(source: string, sourcePort = 40000, dest = '127.0.0.1', destPort = 6667): Buffer {
  const family = source.includes(':') ? 'TCP6' : 'TCP4';
  return Buffer.from(`PROXY ${family} ${source} ${dest} ${sourcePort} ${destPort}\r\n`);
}

const SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/** A v2 PROXY (or LOCAL) header for an IPv4 client; `tls` adds PP2_TYPE_SSL with the client bit. */
export function proxyV2(source: [number, number, number, number] | null, options: { tls?: boolean; command?: number } = {}): Buffer {
  const command = options.command ?? (source ? 1 : 0);
  const addresses = source ? Buffer.from([...source, 127, 0, 0, 1, 0x9c, 0x40, 0x1a, 0x0b]) : Buffer.alloc(0);
  const tlvs = options.tls ? Buffer.from([0x20, 0x00, 0x05, 0x01, 0, 0, 0, 0]) : Buffer.alloc(0);
  const header = Buffer.alloc(4);
  header[0] = 0x20 | command;
  header[1] = source ? 0x11 : 0x00;
  header.writeUInt16BE(addresses.length + tlvs.length, 2);
  return Buffer.concat([SIGNATURE, header, addresses, tlvs]);
}

/** A v2 header for an IPv6 client: `prefix` then zeros then 1 (`2001:db8::1`), to ::1. */
export function proxyV2Ipv6(prefix: number[]): Buffer {
  const source = [...prefix, ...new Array<number>(15 - prefix.length).fill(0), 1];
  const dest = [...new Array<number>(15).fill(0), 1];
  const addresses = Buffer.from([...source, ...dest, 0x9c, 0x40, 0x1a, 0x0b]);
  const header = Buffer.from([0x21, 0x21, 0, addresses.length]);
  return Buffer.concat([SIGNATURE, header, addresses]);
}
