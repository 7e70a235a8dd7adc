import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, parseDuration } from '../../src/core/commands/operator.js';
import { ServerBans } from '../../src/core/server-bans.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { ServerBan, ServerBanStore } from '../../src/store/store.js';
import { manualClock } from '../helpers/server.js';

/** A ServerBanStore in memory, enough for ServerBans. */
function memoryBanStore(): ServerBanStore & { saved: Map<string, ServerBan> } {
  const saved = new Map<string, ServerBan>();
  return {
    saved,
    save: async (ban) => void saved.set(`${ban.kind} ${ban.mask}`, ban),
    delete: async (kind, mask) => saved.delete(`${kind} ${mask}`),
    list: async (now) => [...saved.values()].filter((b) => b.expiresAt === null || b.expiresAt > now),
    prune: async (now) => {
      let n = 0;
      for (const [key, ban] of saved) if (ban.expiresAt !== null && ban.expiresAt <= now) (saved.delete(key), n++);
      return n;
    },
  };
}

const ban = (kind: ServerBan['kind'], mask: string, expiresAt: number | null = null): ServerBan => ({
  kind,
  mask,
  reason: 'r',
  setBy: 'admin',
  setAt: 0,
  expiresAt,
});

describe('ban durations', () => {
  it('parses units, combinations and bare minutes', () => {
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('30m'), 1_800_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('7d'), 604_800_000);
    assert.equal(parseDuration('2w'), 1_209_600_000);
    assert.equal(parseDuration('60'), 3_600_000);
    assert.equal(parseDuration('0'), 0);
    for (const bad of ['', 'h', '1x', '1h ', '*@host', '-5m']) assert.equal(parseDuration(bad), null, bad);
  });

  it('formats for people', () => {
    assert.equal(formatDuration(5_400_000), '1h30m');
    assert.equal(formatDuration(null), 'permanent');
    assert.equal(formatDuration(0), '0s');
  });
});

describe('ServerBans', () => {
  it('normalises masks and refuses ones that would match everyone', () => {
    assert.equal(ServerBans.klineMask('*@10.0.0.*'), '*@10.0.0.*');
    assert.equal(ServerBans.klineMask('~Bob@Host.Example'), '~bob@host.example');
    assert.equal(ServerBans.klineMask('10.0.0.5'), '*@10.0.0.5');
    assert.equal(ServerBans.klineMask('*@10.1.2.3/16'), '*@10.1.0.0/16');
    for (const bad of ['*@*', '*', '?@*.*', 'a b@c', 'a@', '@b', '*@0.0.0.0/0']) assert.equal(ServerBans.klineMask(bad), null, bad);
    assert.equal(ServerBans.dlineMask('192.0.2.77/24'), '192.0.2.0/24');
    assert.equal(ServerBans.dlineMask('::ffff:192.0.2.1'), '192.0.2.1');
    for (const bad of ['0.0.0.0/0', '10.0.0.0/7', '::/8', 'host.example', '*']) assert.equal(ServerBans.dlineMask(bad), null, bad);
  });

  it('matches KLINEs by user and host (glob or network) and DLINEs by address', async () => {
    const bans = new ServerBans(memoryBanStore(), silentLogger);
    await bans.add(ban('kline', '~spam*@*'));
    await bans.add(ban('kline', '*@10.0.0.*'));
    await bans.add(ban('kline', '*@2001:db8::/32'));
    await bans.add(ban('dline', '192.0.2.0/24'));
    assert.equal(bans.klineFor('~SpamBot', '198.51.100.1')?.mask, '~spam*@*');
    assert.equal(bans.klineFor('~alice', '10.0.0.9')?.mask, '*@10.0.0.*');
    assert.equal(bans.klineFor('~alice', '2001:db8:5::1')?.mask, '*@2001:db8::/32');
    assert.equal(bans.klineFor('~alice', '10.0.1.9'), null);
    assert.equal(bans.dlineFor('192.0.2.200')?.mask, '192.0.2.0/24');
    assert.equal(bans.dlineFor('::ffff:192.0.2.200')?.mask, '192.0.2.0/24');
    assert.equal(bans.dlineFor('192.0.3.1'), null);
    assert.deepEqual(bans.list('kline').map((b) => b.mask), ['*@10.0.0.*', '*@2001:db8::/32', '~spam*@*']);
  });

  it('stops matching at expiry, prunes, and loads what the store holds', async () => {
    const clock = manualClock(1000);
    const store = memoryBanStore();
    const bans = new ServerBans(store, silentLogger, clock.now);
    await bans.add(ban('dline', '192.0.2.1', 2000));
    await bans.add(ban('dline', '192.0.2.2'));
    assert.ok(bans.dlineFor('192.0.2.1'));
    clock.advance(1000);
    assert.equal(bans.dlineFor('192.0.2.1'), null, 'expired at its expiresAt');
    bans.prune();
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual([...store.saved.keys()], ['dline 192.0.2.2']);
    const reloaded = new ServerBans(store, silentLogger, clock.now);
    await reloaded.load();
    assert.deepEqual(reloaded.list('dline').map((b) => b.mask), ['192.0.2.2']);
    assert.equal(await reloaded.remove('dline', '192.0.2.2'), true);
    assert.equal(await reloaded.remove('dline', '192.0.2.2'), false);
  });
});

describe('ban parsing under random input', () => {
  it('never throws; every mask it accepts is normalised (a second pass changes nothing) and matches without throwing', async () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const chars = 'ab~*?@.:/0123456789fF[]\\-_ \x00\x07é';
    const word = () => Array.from({ length: Math.floor(random() * 24) }, () => chars[Math.floor(random() * chars.length)]).join('');
    const bans = new ServerBans(memoryBanStore(), silentLogger);
    for (let i = 0; i < 5000; i++) {
      const text = word();
      parseDuration(text);
      const kline = ServerBans.klineMask(text);
      if (kline !== null) {
        assert.equal(ServerBans.klineMask(kline), kline, text);
        await bans.add(ban('kline', kline));
      }
      const dline = ServerBans.dlineMask(text);
      if (dline !== null) {
        assert.equal(ServerBans.dlineMask(dline), dline, text);
        await bans.add(ban('dline', dline));
      }
      bans.klineFor(word(), word());
      bans.dlineFor(word());
    }
  });
});
