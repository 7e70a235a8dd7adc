/**
 * NetworkConnectionLimits on the in-memory shared state (the real implementation of one
 * process; two nodes on Redis: test/cluster-core/address-limits.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openCluster } from '../../src/cluster/open.js';
import { NetworkConnectionLimits, type ConnectionCounts } from '../../src/limits/network-connections.js';

const holder = () => ({});

test('a share per holder up to the limit; a refused holder holds nothing; give returns one', async () => {
  const cluster = await openCluster({ url: null });
  try {
    const limits = new NetworkConnectionLimits(cluster.state, { limit: 2 });
    const [a, b, c] = [holder(), holder(), holder()];
    assert.equal(await limits.take(a, '10.0.0.1'), true);
    assert.equal(await limits.take(a, '10.0.0.1'), true, 'taking twice is one share');
    assert.equal(await limits.take(b, '10.0.0.1'), true);
    assert.equal(await limits.take(c, '10.0.0.1'), false);
    assert.equal(await cluster.state.connections('10.0.0.1'), 2);
    assert.equal(await limits.take(c, '10.0.0.2'), true, 'another address');
    limits.give(a);
    limits.give(a); // once only
    await new Promise((r) => setImmediate(r));
    assert.equal(await cluster.state.connections('10.0.0.1'), 1);
    assert.equal(await limits.take(holder(), '10.0.0.1'), true);
  } finally {
    await cluster.close();
  }
});

test('a holder that ends while its share is asked for gives it back when it comes', async () => {
  const cluster = await openCluster({ url: null });
  try {
    const limits = new NetworkConnectionLimits(cluster.state, { limit: 5 });
    const a = holder();
    const taken = limits.take(a, '10.0.0.1');
    limits.give(a);
    await taken;
    await new Promise((r) => setImmediate(r));
    assert.equal(await cluster.state.connections('10.0.0.1'), 0);
    assert.equal(limits.size, 0);
  } finally {
    await cluster.close();
  }
});

test('a flood: past maxPending asks in flight, holders are let in on the local count alone, not queued', async () => {
  const cluster = await openCluster({ url: null });
  try {
    const limits = new NetworkConnectionLimits(cluster.state, { limit: 1, maxPending: 3 });
    const asks = Array.from({ length: 10 }, () => limits.take(holder(), '10.0.0.9'));
    assert.equal(limits.pending, 3);
    assert.equal(limits.bypassed, 7);
    const answers = await Promise.all(asks);
    // Of the three asked, one got the address's only share; the seven others were let in unasked.
    assert.deepEqual(answers.filter((ok) => !ok).length, 2);
    assert.equal(await cluster.state.connections('10.0.0.9'), 1);
    assert.equal(limits.pending, 0);
  } finally {
    await cluster.close();
  }
});

test('the shared state failing lets the holder in without a share, and says so', async () => {
  const errors: unknown[] = [];
  const failing: ConnectionCounts = {
    addConnection: () => Promise.reject(new Error('redis down')),
    removeConnection: () => Promise.reject(new Error('redis down')),
  };
  const limits = new NetworkConnectionLimits(failing, { limit: 1, onError: (err) => errors.push(err) });
  const a = holder();
  assert.equal(await limits.take(a, '10.0.0.1'), true);
  assert.equal(limits.bypassed, 1);
  assert.equal(errors.length, 1);
  limits.give(a); // holds nothing: nothing to give back
  assert.equal(errors.length, 1);
});

test('after the shared counts were lost, reannounce counts every held share again, without the limit', async () => {
  const before = await openCluster({ url: null });
  const after = await openCluster({ url: null });
  try {
    // The same node's view of the counts, whose data goes (Redis restarted empty): `after` is empty.
    let state = before.state;
    const counts: ConnectionCounts = {
      addConnection: (key, limit) => state.addConnection(key, limit),
      removeConnection: (key) => state.removeConnection(key),
    };
    const limits = new NetworkConnectionLimits(counts, { limit: 2 });
    const [a, b, c] = [holder(), holder(), holder()];
    assert.equal(await limits.take(a, '10.0.0.1'), true);
    assert.equal(await limits.take(b, '10.0.0.1'), true);
    state = after.state;
    assert.equal(await after.state.connections('10.0.0.1'), 0);
    limits.reannounce();
    await new Promise((r) => setImmediate(r));
    assert.equal(await after.state.connections('10.0.0.1'), 2);
    assert.equal(await limits.take(c, '10.0.0.1'), false, 'the limit holds again');
  } finally {
    await before.close();
    await after.close();
  }
});
