import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseProxyHeader } from '../../src/transport/proxy-protocol.js';
import { proxyV1, proxyV2, proxyV2Ipv6 } from '../helpers/proxy-header.js';

const header = (data: Buffer) => {
  const parsed = parseProxyHeader(data);
  assert.equal(parsed.kind, 'header', JSON.stringify(parsed));
  return (parsed as Extract<typeof parsed, { kind: 'header' }>).header;
};

describe('PROXY protocol v1', () => {
  it('reads the client address and the header length; what follows is the client', () => {
    const bytes = Buffer.concat([proxyV1('203.0.113.7'), Buffer.from('NICK x\r\n')]);
    const parsed = header(bytes);
    assert.equal(parsed.address, '203.0.113.7');
    assert.equal(bytes.subarray(parsed.length).toString(), 'NICK x\r\n');
    assert.equal(header(proxyV1('2001:db8::7')).address, '2001:db8::7');
    assert.equal(header(proxyV1('::ffff:203.0.113.7')).address, '203.0.113.7');
  });

  it('UNKNOWN names no address', () => {
    assert.equal(header(Buffer.from('PROXY UNKNOWN\r\n')).address, null);
    assert.equal(header(Buffer.from('PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n')).address, null);
  });

  it('waits for the rest of a header that came in pieces', () => {
    const full = proxyV1('203.0.113.7');
    for (const cut of [1, 5, 6, 20, full.length - 1]) assert.equal(parseProxyHeader(full.subarray(0, cut)).kind, 'incomplete', String(cut));
  });

  it('refuses malformed lines and what is not a header at all', () => {
    for (const bad of [
      'NICK hello\r\n',
      'PROXY TCP4 203.0.113.7 127.0.0.1 40000\r\n',
      'PROXY TCP4 2001:db8::1 127.0.0.1 40000 6667\r\n',
      'PROXY TCP6 203.0.113.7 ::1 40000 6667\r\n',
      'PROXY TCP4 203.0.113.999 127.0.0.1 40000 6667\r\n',
      'PROXY TCP4 203.0.113.7 127.0.0.1 99999 6667\r\n',
      'PROXY UDP4 203.0.113.7 127.0.0.1 40000 6667\r\n',
      `PROXY TCP4 ${'1'.repeat(120)}`,
    ]) {
      assert.equal(parseProxyHeader(Buffer.from(bad)).kind, 'invalid', bad);
    }
  });
});

describe('PROXY protocol v2', () => {
  it('reads an IPv4 or IPv6 client address, skipping TLVs', () => {
    const bytes = Buffer.concat([proxyV2([198, 51, 100, 23]), Buffer.from('CAP LS\r\n')]);
    const parsed = header(bytes);
    assert.deepEqual({ address: parsed.address, secure: parsed.secure }, { address: '198.51.100.23', secure: false });
    assert.equal(bytes.subarray(parsed.length).toString(), 'CAP LS\r\n');
    assert.equal(header(proxyV2Ipv6([0x20, 0x01, 0x0d, 0xb8])).address, '2001:db8::1');
  });

  it('the SSL TLV with the client bit says the client used TLS to the proxy', () => {
    assert.equal(header(proxyV2([198, 51, 100, 23], { tls: true })).secure, true);
  });

  it('LOCAL (health checks) names no address', () => {
    assert.equal(header(proxyV2(null)).address, null);
  });

  it('waits for a header that came in pieces; refuses other versions and commands', () => {
    const full = proxyV2([198, 51, 100, 23]);
    for (const cut of [3, 12, 15, 16, full.length - 1]) assert.equal(parseProxyHeader(full.subarray(0, cut)).kind, 'incomplete', String(cut));
    const v1Version = Buffer.from(full);
    v1Version[12] = 0x11;
    assert.equal(parseProxyHeader(v1Version).kind, 'invalid');
    assert.equal(parseProxyHeader(proxyV2([198, 51, 100, 23], { command: 2 })).kind, 'invalid');
    const huge = Buffer.from(full);
    huge.writeUInt16BE(60000, 14);
    assert.equal(parseProxyHeader(huge).kind, 'invalid');
  });
});
