import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AddressSet, addressKey, cidrContains, formatCidr, formatIp, normalizeAddress, parseCidr, parseIp } from '../../src/limits/cidr.js';

describe('IP addresses', () => {
  it('parses IPv4 and IPv6, and formats them back (RFC 5952 for IPv6)', () => {
    assert.equal(formatIp(parseIp('192.0.2.1')!), '192.0.2.1');
    assert.equal(formatIp(parseIp('2001:DB8:0:0:0:0:0:1')!), '2001:db8::1');
    assert.equal(formatIp(parseIp('::')!), '::');
    assert.equal(formatIp(parseIp('::1')!), '::1');
    assert.equal(formatIp(parseIp('fe80::1%eth0')!), 'fe80::1');
    assert.equal(formatIp(parseIp('2001:db8:0:1:0:0:1:1')!), '2001:db8:0:1::1:1', 'the longest zero run is shortened');
    assert.equal(formatIp(parseIp('2001:db8:1:1:1:1:0:1')!), '2001:db8:1:1:1:1:0:1', 'a single zero group is not');
  });

  it('refuses what is not an address', () => {
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.4/8', 'a::b::c', '12345::', ':::', 'host.example', '1:2:3:4:5:6:7:8:9']) {
      assert.equal(parseIp(bad), null, bad);
    }
  });

  it('treats IPv4-mapped IPv6 as the IPv4 address', () => {
    assert.deepEqual(parseIp('::ffff:192.0.2.1'), parseIp('192.0.2.1'));
    assert.equal(normalizeAddress('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(normalizeAddress('2001:db8::1'), '2001:db8::1');
    assert.equal(normalizeAddress('not-an-ip'), 'not-an-ip');
  });
});

describe('CIDR networks', () => {
  it('parse, match and print canonically', () => {
    const net = parseCidr('10.1.2.3/8')!;
    assert.equal(formatCidr(net), '10.0.0.0/8');
    assert.ok(cidrContains(net, parseIp('10.255.0.1')!));
    assert.ok(!cidrContains(net, parseIp('11.0.0.1')!));
    assert.ok(cidrContains(parseCidr('192.0.2.128/25')!, parseIp('192.0.2.200')!));
    assert.ok(!cidrContains(parseCidr('192.0.2.128/25')!, parseIp('192.0.2.100')!));
    assert.equal(formatCidr(parseCidr('2001:db8::1/32')!), '2001:db8::/32');
    assert.equal(formatCidr(parseCidr('192.0.2.7')!), '192.0.2.7', 'a single address stays an address');
    assert.ok(cidrContains(parseCidr('0.0.0.0/0')!, parseIp('203.0.113.9')!));
    assert.ok(!cidrContains(parseCidr('::/0')!, parseIp('203.0.113.9')!), 'families never mix');
  });

  it('a mapped IPv4 network counts its bits the IPv6 way', () => {
    assert.equal(formatCidr(parseCidr('::ffff:10.0.0.0/104')!), '10.0.0.0/8');
  });

  it('refuses bad prefixes', () => {
    for (const bad of ['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/x', '::/129', '/8', '::ffff:10.0.0.0/90']) assert.equal(parseCidr(bad), null, bad);
  });

  it('AddressSet matches any of its networks, IPv4-mapped or not', () => {
    const set = new AddressSet(['127.0.0.1/32', '10.0.0.0/8', '2001:db8::/32']);
    assert.ok(set.has('127.0.0.1'));
    assert.ok(set.has('::ffff:10.9.8.7'));
    assert.ok(set.has('2001:db8:ffff::1'));
    assert.ok(!set.has('127.0.0.2'));
    assert.ok(!set.has('garbage'));
    assert.ok(!new AddressSet([]).has('127.0.0.1'));
    assert.throws(() => new AddressSet(['nonsense']), /not an IP address/);
  });

  it('per-address limits count IPv4 by address and IPv6 by /64', () => {
    assert.equal(addressKey('192.0.2.1'), '192.0.2.1');
    assert.equal(addressKey('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:db8:1:2:bbbb::9'), addressKey('2001:db8:1:2:aaaa::1'));
    assert.notEqual(addressKey('2001:db8:1:3::1'), addressKey('2001:db8:1:2::1'));
  });
});
