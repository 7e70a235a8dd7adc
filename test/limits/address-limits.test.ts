import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AddressLimits } from '../../src/limits/address-limits.js';
import { manualClock } from '../helpers/server.js';

const options = { maxConnections: 2, connectionsPerMinute: 3, registrationsPerHour: 2, exempt: ['192.0.2.0/24'], exemptLoopback: false };

describe('AddressLimits', () => {
  it('counts open connections per address; a closed one frees a place', () => {
    const limits = new AddressLimits({ ...options, connectionsPerMinute: 100 }, manualClock(0).now);
    assert.equal(limits.admit('10.0.0.1'), null);
    assert.equal(limits.admit('10.0.0.1'), null);
    assert.equal(limits.admit('10.0.0.1'), 'Too many connections from your address');
    assert.equal(limits.admit('10.0.0.2'), null, 'another address is not affected');
    limits.closed('10.0.0.1');
    assert.equal(limits.openCount('10.0.0.1'), 1);
    assert.equal(limits.admit('10.0.0.1'), null);
  });

  it('an IPv6 /64 is one address', () => {
    const limits = new AddressLimits({ ...options, connectionsPerMinute: 100 }, manualClock(0).now);
    assert.equal(limits.admit('2001:db8:0:1::1'), null);
    assert.equal(limits.admit('2001:db8:0:1::2'), null);
    assert.equal(limits.admit('2001:db8:0:1:ffff::3'), 'Too many connections from your address');
    assert.equal(limits.admit('2001:db8:0:2::1'), null);
  });

  it('limits new connections per minute, refilling over the minute; refused attempts cost nothing', () => {
    const clock = manualClock(0);
    const limits = new AddressLimits({ ...options, maxConnections: 100 }, clock.now);
    for (let i = 0; i < 3; i++) assert.equal(limits.admit('10.0.0.1'), null);
    for (let i = 0; i < 50; i++) assert.equal(limits.admit('10.0.0.1'), 'Connecting too fast; try again later');
    clock.advance(20_000); // 3 per minute: one more every 20 s
    assert.equal(limits.admit('10.0.0.1'), null);
    assert.equal(limits.admit('10.0.0.1'), 'Connecting too fast; try again later');
  });

  it('limits account registrations per hour; a refund gives the attempt back', () => {
    const clock = manualClock(0);
    const limits = new AddressLimits(options, clock.now);
    assert.equal(limits.takeRegistration('10.0.0.1'), 0);
    limits.refundRegistration('10.0.0.1');
    assert.equal(limits.takeRegistration('10.0.0.1'), 0);
    assert.equal(limits.takeRegistration('10.0.0.1'), 0);
    assert.equal(limits.takeRegistration('10.0.0.1'), 1_800_000, 'two per hour: the next in 30 minutes');
    clock.advance(1_800_000);
    assert.equal(limits.takeRegistration('10.0.0.1'), 0);
  });

  it('exempt networks are never limited nor counted', () => {
    const limits = new AddressLimits(options, manualClock(0).now);
    for (let i = 0; i < 20; i++) assert.equal(limits.admit('192.0.2.9'), null);
    for (let i = 0; i < 20; i++) assert.equal(limits.takeRegistration('192.0.2.9'), 0);
    assert.equal(limits.openCount('192.0.2.9'), 0);
    assert.ok(limits.isExempt('::ffff:192.0.2.200'));
  });
});
