import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { LoginLog } from '../../src/core/login-log.js';
import type { Session } from '../../src/core/session.js';
import { startConnectionSummary } from '../../src/observability/connection-summary.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';
import { noopMetrics } from '../../src/observability/metrics.js';
import { formatPretty } from '../../src/observability/pretty.js';
import { manualClock } from '../helpers/server.js';

type Entry = Record<string, unknown> & { time: string; level: string; msg: string };

function capture(level: 'debug' | 'info' = 'debug', options: Parameters<typeof createLogger>[2] = {}) {
  const lines: string[] = [];
  const logger = createLogger(level, (line) => lines.push(line), { format: 'json', ...options });
  const entries = () => lines.map((l) => JSON.parse(l) as Entry);
  return { logger, lines, entries };
}

describe('logger', () => {
  it('writes one JSON object per line with time, level, msg and the fields', () => {
    const { logger, lines, entries } = capture('info');
    logger.debug('hidden');
    logger.info('listening', { transport: 'tcp', port: 6667 });
    const err = Object.assign(new Error('disk full'), { code: 'SQLITE_FULL' });
    logger.error('history store failing', { count: 2, err });
    assert.equal(lines.length, 2);
    for (const line of lines) assert.ok(line.endsWith('}\n') && !line.slice(0, -1).includes('\n'));
    const [first, second] = entries();
    assert.equal(first!.level, 'info');
    assert.equal(first!.msg, 'listening');
    assert.equal(first!.transport, 'tcp');
    assert.equal(first!.port, 6667);
    assert.match(first!.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(Object.keys(first!).sort(), ['level', 'msg', 'port', 'time', 'transport']);
    assert.equal(second!.level, 'error');
    const logged = second!.err as Record<string, unknown>;
    assert.equal(logged.name, 'Error');
    assert.equal(logged.message, 'disk full');
    assert.equal(logged.code, 'SQLITE_FULL');
    assert.match(String(logged.stack), /disk full/);
  });

  it('writes at most max_lines_per_second lines of one event a second, then says how many it held back', () => {
    const clock = manualClock(1_000_000);
    const { logger, entries } = capture('debug', { maxPerSecond: 3, now: clock.now });
    for (let i = 0; i < 100; i++) logger.warn('login failed', { i });
    logger.info('other event'); // other events have their own budget
    assert.deepEqual(
      entries().map((e) => e.msg),
      ['login failed', 'login failed', 'login failed', 'other event'],
    );
    clock.advance(1000);
    logger.warn('login failed', { i: 100 });
    const after = entries().slice(4);
    assert.equal(after.length, 2);
    assert.equal(after[0]!.msg, 'log lines suppressed');
    assert.equal(after[0]!.level, 'warn');
    assert.equal(after[0]!.event, 'login failed');
    assert.equal(after[0]!.suppressed, 97);
    assert.equal(after[0]!.worst_level, 'warn');
    assert.equal(after[1]!.msg, 'login failed');
    assert.equal(after[1]!.i, 100);
  });

  it('reports lines held back by a timer too, when the event does not come again', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const clock = manualClock(1_000_000);
      const { logger, entries } = capture('debug', { maxPerSecond: 1, now: clock.now });
      logger.error('command failed');
      logger.error('command failed');
      logger.error('command failed');
      assert.equal(entries().length, 1);
      clock.advance(1000);
      mock.timers.tick(1000);
      const last = entries().at(-1)!;
      assert.equal(last.msg, 'log lines suppressed');
      assert.equal(last.suppressed, 2);
      assert.equal(last.worst_level, 'error');
    } finally {
      mock.timers.reset();
    }
  });

  it('has a pretty format for people', () => {
    const lines: string[] = [];
    const logger = createLogger('info', (line) => lines.push(line), { format: 'pretty' });
    logger.warn('login failed', { mechanism: 'plain', account: 'bob smith', address: '127.0.0.1', attempts: 3 });
    logger.error('command failed', { command: 'JOIN', err: new Error('boom') });
    assert.match(lines[0]!, /^\d\d:\d\d:\d\d\.\d{3} WARN  login failed mechanism=plain account="bob smith" address=127\.0\.0\.1 attempts=3\n$/);
    const [head, ...stack] = lines[1]!.split('\n');
    assert.match(head!, /^\d\d:\d\d:\d\d\.\d{3} ERROR command failed command=JOIN err=boom$/);
    assert.match(stack[0]!, /^ {4}Error: boom$/);
    assert.ok(stack.slice(1, -1).every((l) => l.startsWith('        at ')), 'the stack, indented');
    // Control characters from clients cannot forge a line: such values are quoted as JSON.
    const forged = formatPretty(JSON.stringify({ time: '2026-01-01T00:00:00.000Z', level: 'info', msg: 'x', nick: 'a\nFAKE b' }));
    assert.equal(forged, '00:00:00.000 INFO  x nick="a\\nFAKE b"\n');
    assert.equal(formatPretty('not json\n'), 'not json\n');
  });
});

describe('login log', () => {
  it('logs a few failures per address, then holds back; the metrics count every one', () => {
    const clock = manualClock(1_000_000);
    const { logger, entries } = capture('info', { now: clock.now });
    const failures: string[] = [];
    const metrics = { ...noopMetrics, loginFailed: (mechanism: string, throttled: boolean) => failures.push(`${mechanism}:${throttled}`) };
    const log = new LoginLog(logger, metrics, clock.now);
    const attacker = { id: 1, host: '192.0.2.1' } as Session;
    const owner = { id: 2, host: '192.0.2.2' } as Session;
    for (let i = 0; i < 50; i++) log.failed(attacker, 'plain', 'victim', { reason: 'invalid' });
    log.failed(owner, 'nickserv', 'owner', { reason: 'throttled', retryAfterMs: 1000 });
    log.succeeded(owner, 'plain', 'owner');
    assert.equal(failures.length, 51);
    assert.equal(failures.at(-1), 'nickserv:true');
    const lines = entries();
    assert.equal(lines.filter((e) => e.address === '192.0.2.1').length, 5);
    assert.deepEqual(
      lines.filter((e) => e.address === '192.0.2.2').map((e) => `${e.level} ${e.msg} ${String(e.reason ?? '')}`),
      ['warn login failed throttled', 'info login succeeded '],
    );
    assert.deepEqual(Object.keys(lines[0]!).sort(), ['account', 'address', 'level', 'mechanism', 'msg', 'reason', 'session', 'time']);
    // One more line per address every 12 seconds.
    clock.advance(12_000);
    log.failed(attacker, 'plain', 'victim', { reason: 'invalid' });
    log.failed(attacker, 'plain', 'victim', { reason: 'invalid' });
    assert.equal(entries().filter((e) => e.address === '192.0.2.1').length, 6);
  });
});

describe('connection summary', () => {
  it('logs one info line per interval with activity, none for a quiet one', () => {
    mock.timers.enable({ apis: ['setInterval'] });
    try {
      const lines: Entry[] = [];
      const logger: Logger = { debug() {}, warn() {}, error() {}, info: (msg, fields) => lines.push({ msg, ...fields } as Entry) };
      const totals = { accepted: 10, refused: 0, closed: 2 };
      const stop = startConnectionSummary(() => ({ ...totals }), () => 8, logger, 60_000);
      totals.accepted += 1000;
      totals.refused += 50;
      totals.closed += 990;
      mock.timers.tick(60_000);
      mock.timers.tick(60_000);
      stop();
      assert.deepEqual(lines, [{ msg: 'connections', accepted: 1000, refused: 50, closed: 990, open: 8, seconds: 60 }]);
    } finally {
      mock.timers.reset();
    }
  });
});
