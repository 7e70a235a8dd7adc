/**
 * `parley bench --port a,b` spreads its clients over the nodes of one network: a fanout across
 * two nodes on one Redis delivers every message to every member, through the bus.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseBenchArgs } from '../../src/bench/options.js';
import { Progress } from '../../src/bench/progress.js';
import { runBench } from '../../src/bench/run.js';
import { redisSkipReason } from '../cluster/redis-helpers.js';
import { twoNodes } from './two-nodes.js';

const skip = await redisSkipReason();

describe('parley bench over two nodes', { skip }, () => {
  const nodes = twoNodes('bench');

  it('fanout with --port a,b: members on both nodes, nothing lost', async () => {
    const out = mkdtempSync(join(tmpdir(), 'parley-bench-nodes-'));
    const ports = `${nodes.a.port},${nodes.b.port}`;
    const options = parseBenchArgs(['fanout', '--port', ports, '--members', '20', '--senders', '4', '--rate', '40', '--duration', '1', '--warmup', '0.2', '--out', out, '--quiet']);
    assert.deepEqual(options.ports, [nodes.a.port, nodes.b.port]);
    let during: [number, number] = [0, 0];
    const counting = setInterval(() => {
      during = [nodes.a.server.sessions.size, nodes.b.server.sessions.size];
    }, 100);
    try {
      const { result } = await runBench(options, new Progress(false));
      const m = result.messages!;
      assert.equal(result.clients.connected, 20);
      assert.equal(m.received, m.sent * 19);
      assert.equal(m.lost, 0);
      assert.equal(result.target, `127.0.0.1:${ports}`);
    } finally {
      clearInterval(counting);
    }
    assert.deepEqual(during, [10, 10], 'the clients were spread over both nodes');
  });

  it('refuses a bad port list with a readable reason', () => {
    assert.throws(() => parseBenchArgs(['fanout', '--port', '6667,x']), /--port must be a whole number, not 'x'/);
    assert.throws(() => parseBenchArgs(['fanout', '--port', '6667,70000']), /between 1 and 65535/);
    assert.throws(() => parseBenchArgs(['fanout', '--port', '1,2', '--ws', 'ws://127.0.0.1:1/']), /applies to TCP/);
  });
});
