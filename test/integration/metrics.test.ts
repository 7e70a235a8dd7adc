import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { b64, registerAccount } from '../helpers/accounts.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** One scrape of /metrics: sample name with labels (as written) -> value. */
async function scrape(port: number): Promise<Map<string, number>> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const samples = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

const value = (samples: Map<string, number>, name: string) => samples.get(name) ?? 0;

async function readyz(port: number): Promise<{ status: number; body: { status: string; checks: Record<string, string>; problems?: string[] } }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: res.status, body: (await res.json()) as never };
}

describe('/metrics and /readyz', () => {
  let server: TestServer;
  let http: number;
  const open: RawClient[] = [];

  before(async () => {
    server = await startTestServer({ http: { listen: '127.0.0.1:0' }, accounts: { scrypt_log_n: 10 } });
    http = server.http!.port;
  });
  after(async () => {
    for (const c of open) c.close();
    await server.stop();
  });

  it('names every metric parley_*, with the process metrics and parley_info', async () => {
    const samples = await scrape(http);
    for (const name of samples.keys()) assert.match(name, /^parley_/);
    assert.equal(samples.get('parley_info{version="0.1.0",node="parley.local"}'), 1);
    assert.ok(value(samples, 'parley_process_resident_memory_bytes') > 0);
    assert.ok(samples.has('parley_nodejs_eventloop_lag_seconds'));
    assert.ok(samples.has('parley_nodejs_heap_size_used_bytes'));
  });

  it('counts a room message in, out, its deliveries and its bytes', async () => {
    const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((nick) => RawClient.register(server.port, nick)));
    open.push(alice!, bob!, carol!);
    for (const c of [alice!, bob!, carol!]) {
      c.send('JOIN #metrics');
      await c.sync();
    }
    const before = await scrape(http);
    assert.equal(value(before, 'parley_connections{transport="tcp"}'), 3);
    assert.ok(value(before, 'parley_registered_users') >= 3);
    assert.ok(value(before, 'parley_rooms') >= 1);

    const line = 'PRIVMSG #metrics :hello, metrics';
    alice!.send(line);
    await bob!.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'hello, metrics');
    await carol!.expect((m) => m.command === 'PRIVMSG' && m.params[1] === 'hello, metrics');
    const after = await scrape(http);

    const delta = (name: string) => value(after, name) - value(before, name);
    assert.equal(delta('parley_messages_in_total{command="PRIVMSG"}'), 1);
    assert.equal(delta('parley_messages_out_total'), 1);
    assert.equal(delta('parley_deliveries_total'), 2, 'bob and carol, not the sender');
    assert.equal(delta('parley_commands_total{command="PRIVMSG"}'), 1);
    assert.ok(delta('parley_bytes_in_total') >= line.length + 2, 'the line read');
    // Each recipient got the line with alice's prefix.
    assert.ok(delta('parley_bytes_out_total') >= 2 * (line.length + 2), 'two copies written');
    assert.equal(delta('parley_history_write_batch_size_count'), 1);
    assert.equal(delta('parley_history_commit_seconds_count'), 1);
  });

  it('counts errors by command, and unknown commands as other', async () => {
    const c = await RawClient.register(server.port, 'erring');
    open.push(c);
    const before = await scrape(http);
    c.send('PRIVMSG #nowhere :lost');
    c.send('FROBNICATE now');
    c.send('KILL someone');
    await c.sync();
    const after = await scrape(http);
    const delta = (name: string) => value(after, name) - value(before, name);
    assert.equal(delta('parley_command_errors_total{command="PRIVMSG"}'), 1, '403 no such channel');
    assert.equal(delta('parley_commands_total{command="other"}'), 1);
    assert.equal(delta('parley_command_errors_total{command="other"}'), 1);
    assert.equal(delta('parley_command_errors_total{command="KILL"}'), 1, '481 not an operator');
    for (const name of after.keys()) assert.doesNotMatch(name, /FROBNICATE/);
  });

  it('counts a failed login by mechanism', async () => {
    await registerAccount(server.port, 'metered', 'Right-Password-1');
    const before = await scrape(http);
    const c = await RawClient.connect({ port: server.port });
    open.push(c);
    c.send('CAP REQ :sasl');
    c.send('NICK guessing');
    c.send('USER guessing 0 * :guessing');
    c.send('AUTHENTICATE PLAIN');
    await c.expect((m) => m.command === 'AUTHENTICATE');
    c.send(`AUTHENTICATE ${b64('metered\0metered\0wrong-password')}`);
    await c.expectCommand('904');
    c.send('AUTHENTICATE PLAIN');
    await c.expect((m) => m.command === 'AUTHENTICATE');
    c.send(`AUTHENTICATE ${b64('metered\0metered\0Right-Password-1')}`);
    await c.expectCommand('903');
    const after = await scrape(http);
    const delta = (name: string) => value(after, name) - value(before, name);
    assert.equal(delta('parley_login_failures_total{mechanism="plain"}'), 1);
    assert.equal(delta('parley_logins_total{mechanism="plain"}'), 1);
  });

  it('counts HTTP requests by route and status', async () => {
    await readyz(http);
    const samples = await scrape(http);
    assert.ok(value(samples, 'parley_http_requests_total{route="readyz",status="200"}') >= 1);
    assert.ok(value(samples, 'parley_http_requests_total{route="metrics",status="200"}') >= 1);
  });

  it('/readyz turns 503 while the store fails, 200 once it commits again; /healthz keeps its fields', async () => {
    const store = server.server.store as SqliteStore;
    const c = await RawClient.register(server.port, 'storing');
    open.push(c);
    c.send('JOIN #store');
    await c.sync();
    assert.deepEqual(await readyz(http), { status: 200, body: { status: 'ready', checks: { store: 'ok', shutdown: 'ok', cluster: 'ok' } } });

    // The injection of test/integration/store-failure.test.ts: every insert into messages aborts.
    store.db.exec(`CREATE TEMP TRIGGER fail_history BEFORE INSERT ON messages BEGIN SELECT RAISE(ABORT, 'injected: disk full'); END`);
    c.send('PRIVMSG #store :not stored');
    await c.expect((m) => m.command === 'FAIL' && m.params[1] === 'TEMPORARILY_UNAVAILABLE');
    const failing = await readyz(http);
    assert.equal(failing.status, 503);
    assert.equal(failing.body.status, 'unavailable');
    assert.equal(failing.body.checks.store, 'failing');
    assert.match(failing.body.problems![0]!, /^store: history store failing since \d{4}-/);
    assert.equal(value(await scrape(http), 'parley_history_store_failing'), 1);
    const health = await fetch(`http://127.0.0.1:${http}/healthz`);
    assert.equal(health.status, 503);
    const healthBody = (await health.json()) as Record<string, unknown>;
    assert.equal(healthBody.store, 'failing');
    assert.equal(typeof healthBody.store_failing_since, 'string');

    store.db.exec('DROP TRIGGER temp.fail_history');
    c.send('PRIVMSG #store :stored again');
    await c.sync();
    assert.equal((await readyz(http)).status, 200);
    assert.equal(value(await scrape(http), 'parley_history_store_failing'), 0);
  });
});

describe('metrics.listen', () => {
  it('serves /metrics on its own listener only', async () => {
    const server = await startTestServer({ http: { listen: '127.0.0.1:0' }, metrics: { listen: '127.0.0.1:0' } });
    try {
      assert.ok(server.metricsHttp);
      const samples = await scrape(server.metricsHttp.port);
      assert.ok(samples.has('parley_connections{transport="tcp"}'));
      assert.equal((await fetch(`http://127.0.0.1:${server.metricsHttp.port}/readyz`)).status, 404);
      const onPublic = await fetch(`http://127.0.0.1:${server.http!.port}/metrics`);
      assert.notEqual(onPublic.status, 200, 'not on the public port');
      await onPublic.arrayBuffer();
    } finally {
      await server.stop();
    }
  });

  it('metrics.enabled: false serves none', async () => {
    const server = await startTestServer({ http: { listen: '127.0.0.1:0' }, metrics: { enabled: false } });
    try {
      assert.equal(server.metricsHttp, null);
      const res = await fetch(`http://127.0.0.1:${server.http!.port}/metrics`);
      assert.notEqual(res.status, 200);
      await res.arrayBuffer();
    } finally {
      await server.stop();
    }
  });
});
