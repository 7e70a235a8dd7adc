/**
 * Issue 15, `parley bench --metrics`: the servers' /metrics read once a second during a run,
 * their figures in the table, the JSON and the HTML charts. A real server on 127.0.0.1 port 0
 * with its HTTP port; hostile pages from a small HTTP server of the test's own.
 */
import assert from 'node:assert/strict';
import { createServer, type Server as HttpServer } from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MetricsScraper, scrapeOnce } from '../../src/bench/metrics-scrape.js';
import { BenchUsageError, parseBenchArgs } from '../../src/bench/options.js';
import { parsePromText, sumOf } from '../../src/bench/prom-text.js';
import { Progress } from '../../src/bench/progress.js';
import { formatTable } from '../../src/bench/report.js';
import { runBench } from '../../src/bench/run.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const out = mkdtempSync(join(tmpdir(), 'parley-bench-metrics-'));
const bench = (args: string[]) => runBench(parseBenchArgs([...args, '--out', out, '--quiet']), new Progress(false));

/** An HTTP server answering every request with `page()`; returns its /metrics URL. */
async function pageServer(page: () => string | null): Promise<{ url: string; http: HttpServer }> {
  const http = createServer((_req, res) => {
    const body = page();
    if (body === null) res.writeHead(500).end('broken');
    else res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
  });
  await new Promise<void>((done) => http.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/metrics`, http };
}

describe('the Prometheus text parser', () => {
  it('reads names, labels (escapes included) and values; skips comments and lines that do not parse', () => {
    const samples = parsePromText(
      [
        '# HELP parley_deliveries_total Lines queued',
        '# TYPE parley_deliveries_total counter',
        'parley_deliveries_total 42',
        'parley_messages_in_total{command="PRIVMSG"} 7 1700000000000',
        'parley_messages_in_total{command="NOTICE",x="a\\"b\\\\c\\nd"} 3',
        'parley_info{node="n1",} 1',
        'garbage line here',
        'parley_bad{unclosed="x 1',
        'parley_nan NaN',
        'parley_exp 1.5e3',
        'parley_novalue',
      ].join('\n'),
    );
    assert.deepEqual(
      samples.map((s) => [s.name, s.value]),
      [
        ['parley_deliveries_total', 42],
        ['parley_messages_in_total', 7],
        ['parley_messages_in_total', 3],
        ['parley_info', 1],
        ['parley_nan', NaN],
        ['parley_exp', 1500],
      ],
    );
    assert.equal(samples[2]!.labels.x, 'a"b\\c\nd');
    assert.equal(samples[3]!.labels.node, 'n1');
    assert.equal(sumOf(samples, 'parley_messages_in_total'), 10);
    assert.equal(sumOf(samples, 'parley_nan'), null, 'NaN is not a figure');
    assert.equal(sumOf(samples, 'parley_missing'), null);
  });

  it('takes time in proportion to the page, however it is crafted', () => {
    // Unclosed label values and endless label lists end at the line: nothing is re-scanned.
    const hostile = `parley_x{${'a="b",'.repeat(50_000)}\n${'parley_y{v="'.repeat(20_000)}\n${'9'.repeat(100_000)}\n`;
    const started = performance.now();
    parsePromText(hostile);
    // Not a timing assertion of the product: a guard that the parser is not quadratic (which
    // takes minutes on this page). Linear parsing takes milliseconds.
    assert.ok(performance.now() - started < 5000);
  });
});

describe('parley bench --metrics', () => {
  let server: TestServer;
  let metricsUrl: string;
  before(async () => {
    server = await startTestServer({ http: { listen: '127.0.0.1:0' } });
    metricsUrl = `http://127.0.0.1:${server.http!.port}/metrics`;
  });
  after(() => server.stop());

  it('takes loopback http(s) URLs only, at most 64', () => {
    assert.deepEqual(parseBenchArgs(['fanout', '--metrics', 'http://127.0.0.1:9/metrics,http://[::1]:9/m']).metrics, ['http://127.0.0.1:9/metrics', 'http://[::1]:9/m']);
    assert.throws(() => parseBenchArgs(['fanout', '--metrics', 'http://10.0.0.1:9/metrics']), /not on a loopback address/);
    assert.throws(() => parseBenchArgs(['fanout', '--metrics', 'file:///etc/passwd']), /http:\/\/ or https:\/\//);
    assert.throws(() => parseBenchArgs(['fanout', '--metrics', 'not a url']), /is not a URL/);
    assert.throws(() => parseBenchArgs(['fanout', '--metrics', Array.from({ length: 65 }, (_, i) => `http://127.0.0.1:${i + 1}/`).join(',')]), /at most 64 URLs/);
  });

  it('puts what the server counted in the table, the JSON and the charts: messages in match what was sent', async () => {
    const { result, jsonPath, htmlPath } = await bench(['fanout', '--port', String(server.port), '--members', '20', '--senders', '4', '--rate', '100', '--duration', '3', '--warmup', '0.5', '--metrics', metricsUrl]);
    assert.equal(result.messages!.lost, 0);
    const [m] = result.metrics!;
    assert.equal(m!.node, server.server.name);
    assert.equal(m!.error, null);
    assert.ok(m!.scrapes >= 4, `read at the start, the end and every second (${m!.scrapes})`);
    // The server's count of messages in over the measurement is what the senders sent in it
    // (100/s for 3 s), give or take the messages in flight at either end.
    const sentInWindow = 100 * 3;
    assert.ok(Math.abs(m!.totals.messagesIn! - sentInWindow) <= 30, `server counted ${m!.totals.messagesIn} messages in, sent ${sentInWindow}`);
    // Each message goes to the 19 other members; a delivery lands a little after its message
    // came in, so the window's edges shift the two counts apart by a few messages' worth.
    const fanout = m!.totals.deliveries! / m!.totals.messagesIn!;
    assert.ok(fanout > 18 && fanout < 20.5, `deliveries ${m!.totals.deliveries} for ${m!.totals.messagesIn} in`);
    assert.equal(m!.totals.sendqDrops, 0);
    assert.equal(m!.totals.connections, 20);
    assert.ok(m!.totals.heapUsedMiB! > 1);
    assert.equal(m!.series.length, 3);
    assert.ok(m!.series.every((row) => row.messagesIn! > 50), JSON.stringify(m!.series.map((row) => row.messagesIn)));
    assert.match(formatTable(result), new RegExp(`server: messages in +${Math.round(m!.totals.messagesIn!)}\n`));
    const json = JSON.parse(readFileSync(jsonPath, 'utf8'));
    assert.deepEqual(json.options.metrics, [metricsUrl]);
    assert.equal(json.metrics[0].totals.messagesIn, m!.totals.messagesIn);
    const html = readFileSync(htmlPath, 'utf8');
    for (const id of ['metrics-deliveries', 'metrics-messages-in', 'metrics-event-loop', 'metrics-heap', 'metrics-sendq-drops']) assert.match(html, new RegExp(`<svg id="${id}"`));
    assert.match(html, new RegExp(`From ${server.server.name} \\(${metricsUrl.replace(/[./]/g, '\\$&')}`));
  });

  it('refuses to start when a URL does not answer with Parley metrics, and says why', async () => {
    const closed = await pageServer(() => '');
    closed.http.close();
    await assert.rejects(bench(['connect', '--port', String(server.port), '--clients', '1', '--metrics', closed.url]), (err: Error) => err instanceof BenchUsageError && /--metrics: .*ECONNREFUSED/.test(err.message));
    const other = await pageServer(() => 'node_something 1\n');
    await assert.rejects(bench(['connect', '--port', String(server.port), '--clients', '1', '--metrics', other.url]), /no parley_ metrics on the page/);
    other.http.close();
    const failing = await pageServer(() => null);
    await assert.rejects(scrapeOnce(failing.url), /HTTP 500/);
    failing.http.close();
  });

  it('refuses a page too big to be /metrics without holding it all', async () => {
    const chunk = `parley_x 1\n`.repeat(100_000);
    const huge = await pageServer(() => chunk.repeat(5));
    await assert.rejects(scrapeOnce(huge.url), /not a \/metrics page/);
    huge.http.close();
  });

  it('a server that stops answering mid-run leaves a reason and the readings it gave', async () => {
    let broken = false;
    let n = 0;
    const flaky = await pageServer(() => (broken ? null : `parley_deliveries_total ${(n += 100)}\nparley_info{node="flaky"} 1\n`));
    const scraper = new MetricsScraper([flaky.url]);
    scraper.start();
    scraper.measure(process.hrtime.bigint(), 2.5);
    await new Promise((done) => setTimeout(done, 1300));
    broken = true;
    await new Promise((done) => setTimeout(done, 1400));
    const [report] = await scraper.stop();
    flaky.http.close();
    assert.equal(report!.node, 'flaky');
    assert.match(report!.error!, /HTTP 500/);
    assert.ok(report!.scrapes >= 2 && report!.totals.deliveries! > 0, JSON.stringify(report));
  });
});
