import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedRateLimiter, TokenBucket } from '../../src/limits/token-bucket.js';
import { manualClock } from '../helpers/server.js';

describe('TokenBucket', () => {
  it('lets a burst of `capacity` through, then one per 1/rate seconds', () => {
    const clock = manualClock(0);
    const bucket = new TokenBucket(3, 2, clock.now);
    assert.deepEqual([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false]);
    assert.equal(bucket.msUntilNext(), 500);
    clock.advance(499);
    assert.equal(bucket.take(), false);
    assert.equal(bucket.msUntilNext(), 1);
    clock.advance(1);
    assert.equal(bucket.take(), true);
    assert.equal(bucket.take(), false);
  });

  it('refills no further than its capacity, however long it sat', () => {
    const clock = manualClock(0);
    const bucket = new TokenBucket(2, 10, clock.now);
    bucket.take();
    bucket.take();
    clock.advance(3_600_000);
    assert.equal(bucket.full, true);
    assert.deepEqual([bucket.take(), bucket.take(), bucket.take()], [true, true, false]);
  });

  it('a clock stepping back adds nothing and takes nothing', () => {
    const clock = manualClock(10_000);
    const bucket = new TokenBucket(1, 1, clock.now);
    assert.equal(bucket.take(), true);
    clock.advance(-5000);
    assert.equal(bucket.take(), false);
    clock.advance(1000);
    assert.equal(bucket.take(), true, 'elapsed time counts again from the earlier reading');
  });

  it('refund gives a token back, up to capacity', () => {
    const bucket = new TokenBucket(1, 0.001, manualClock(0).now);
    assert.equal(bucket.take(), true);
    bucket.refund();
    bucket.refund();
    assert.deepEqual([bucket.take(), bucket.take()], [true, false]);
  });
});

describe('KeyedRateLimiter', () => {
  it('keeps one bucket per key and forgets the full ones on prune', () => {
    const clock = manualClock(0);
    const limiter = new KeyedRateLimiter(2, 1, clock.now);
    assert.deepEqual([limiter.take('a'), limiter.take('a'), limiter.take('a')], [true, true, false]);
    assert.equal(limiter.take('b'), true, 'another key has its own bucket');
    assert.equal(limiter.retryAfter('a'), 1000);
    assert.equal(limiter.retryAfter('never-seen'), 0);
    limiter.prune();
    assert.equal(limiter.size, 2, 'neither bucket is full yet');
    clock.advance(2000);
    limiter.prune();
    assert.equal(limiter.size, 0);
  });
});
