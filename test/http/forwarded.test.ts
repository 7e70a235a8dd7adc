import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forwardedClientAddress } from '../../src/http/forwarded.js';
import { AddressSet } from '../../src/limits/cidr.js';

const trusted = new AddressSet(['10.0.0.0/8', '127.0.0.1']);

describe('X-Forwarded-For', () => {
  it('is ignored unless the peer is a trusted proxy', () => {
    assert.equal(forwardedClientAddress('198.51.100.1', '203.0.113.9', trusted), '198.51.100.1');
    assert.equal(forwardedClientAddress('::ffff:198.51.100.1', undefined, trusted), '198.51.100.1');
  });

  it('from a trusted peer: the rightmost address that is not a trusted proxy', () => {
    assert.equal(forwardedClientAddress('127.0.0.1', '203.0.113.9', trusted), '203.0.113.9');
    assert.equal(forwardedClientAddress('10.0.0.2', '203.0.113.9, 10.1.1.1', trusted), '203.0.113.9');
    // A client-written entry before the first untrusted hop is not believed.
    assert.equal(forwardedClientAddress('10.0.0.2', '1.2.3.4, 203.0.113.9, 10.1.1.1', trusted), '203.0.113.9');
    assert.equal(forwardedClientAddress('10.0.0.2', ['1.2.3.4', '203.0.113.9'], trusted), '203.0.113.9');
  });

  it('ports and brackets are removed; garbage stops the walk at the last good address', () => {
    assert.equal(forwardedClientAddress('10.0.0.2', '203.0.113.9:4711', trusted), '203.0.113.9');
    assert.equal(forwardedClientAddress('10.0.0.2', '[2001:db8::9]:4711', trusted), '2001:db8::9');
    assert.equal(forwardedClientAddress('10.0.0.2', '2001:db8::9', trusted), '2001:db8::9');
    assert.equal(forwardedClientAddress('10.0.0.2', 'evil, 10.1.1.1', trusted), '10.1.1.1');
    assert.equal(forwardedClientAddress('10.0.0.2', 'unknown', trusted), '10.0.0.2');
  });

  it('all hops trusted: the leftmost', () => {
    assert.equal(forwardedClientAddress('10.0.0.2', '10.3.3.3, 10.1.1.1', trusted), '10.3.3.3');
  });
});
