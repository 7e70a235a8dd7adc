import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { ROOT } from '../helpers/cli-server.js';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// The Grafana dashboard and the Prometheus alerts name metrics; a rename in src/observability
// would leave them graphing nothing, silently. This scrapes a real server and checks every
// parley_* name they use exists, and has promtool parse every expression.
// (haproxy_* names are checked against HAProxy's exporter in haproxy.test.ts.)

interface Panel {
  title: string;
  type: string;
  targets?: { expr: string }[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: { name: string; query?: string | { query: string } }[] };
}
interface RuleFile {
  groups: { name: string; rules: { alert?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }[] }[];
}

const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/parley.json'), 'utf8')) as Dashboard;
const alerts = parse(readFileSync(join(ROOT, 'deploy/prometheus/alerts.yml'), 'utf8')) as RuleFile;

const dashboardExprs = [
  ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
  ...dashboard.templating.list.flatMap((v) => (typeof v.query === 'object' ? [v.query.query] : [])),
];
const alertExprs = alerts.groups.flatMap((g) => g.rules.map((r) => r.expr));
const namesIn = (exprs: string[]) => new Set(exprs.flatMap((e) => e.match(/\bparley_[a-z0-9_]+/g) ?? []));

/** Every series name a scrape can have: TYPE lines, with a histogram's _bucket, _sum, _count. */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = match as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram' || type === 'summary') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
  }
  return names;
}

describe('dashboard and alerts reference metrics that exist', () => {
  let server: TestServer;
  let exported: Set<string>;

  before(async () => {
    server = await startTestServer({ http: { listen: '127.0.0.1:0' } });
    // Some traffic first, so the scrape is of a server in use, not only of declarations.
    const client = await RawClient.register(server.port, 'scraper', ['batch', 'draft/chathistory', 'server-time', 'message-tags']);
    client.send('JOIN #metrics');
    client.send('PRIVMSG #metrics :hello');
    client.send('CHATHISTORY LATEST #metrics * 10');
    await client.sync();
    client.send('QUIT');
    await client.closedByServer();
    const res = await fetch(`http://127.0.0.1:${server.http!.port}/metrics`);
    assert.equal(res.status, 200);
    exported = exportedNames(await res.text());
  });

  after(async () => {
    await server?.stop();
  });

  it('every parley_* name in deploy/grafana/parley.json is exported', () => {
    const missing = [...namesIn(dashboardExprs)].filter((n) => !exported.has(n));
    assert.deepEqual(missing, []);
  });

  it('every parley_* name in deploy/prometheus/alerts.yml is exported', () => {
    const missing = [...namesIn(alertExprs)].filter((n) => !exported.has(n));
    assert.deepEqual(missing, []);
  });

  it('the dashboard graphs what an operator needs', () => {
    const used = namesIn(dashboardExprs);
    for (const name of [
      'parley_connections', 'parley_registered_users', 'parley_messages_in_total', 'parley_messages_out_total', 'parley_deliveries_total',
      'parley_sendq_drops_total', 'parley_flood_disconnects_total', 'parley_logins_total', 'parley_login_failures_total',
      'parley_command_errors_total', 'parley_history_write_batch_size_bucket', 'parley_history_commit_seconds_bucket',
      'parley_store_query_seconds_bucket', 'parley_nodejs_eventloop_lag_p99_seconds', 'parley_nodejs_heap_size_used_bytes',
      'parley_process_resident_memory_bytes',
      // The cluster (docs/scaling.md): a scrape of one process has them too (a network of one).
      'parley_cluster_bus_lag_max', 'parley_cluster_bus_lag', 'parley_cluster_publish_seconds_bucket', 'parley_cluster_gaps_total',
      'parley_cluster_reaps_total', 'parley_cluster_held_room_messages', 'parley_cluster_fenced', 'parley_cluster_node_info',
    ]) {
      assert.ok(used.has(name), `the dashboard has no panel on ${name}`);
    }
  });

  it('the dashboard is templated by node and instance, and every panel query uses it', () => {
    const variables = dashboard.templating.list.map((v) => v.name);
    for (const name of ['node', 'instance']) assert.ok(variables.includes(name), `no $${name} variable`);
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      assert.ok(panel.targets && panel.targets.length > 0, `panel ${panel.title} has no query`);
      for (const { expr } of panel.targets) assert.match(expr, /\$instance/, `panel ${panel.title}: ${expr}`);
    }
  });

  it('the alerts an operator needs are there, each with a severity and a summary', () => {
    const rules = alerts.groups.flatMap((g) => g.rules);
    const names = rules.map((r) => r.alert);
    for (const name of ['ParleyNodeDown', 'ParleyNodeNotReady', 'ParleyHistoryStoreFailing', 'ParleySendQDropsSpiking', 'ParleyEventLoopLag', 'ParleyHistoryCommitSlow', 'ParleyBusLag', 'ParleyNodeFenced']) {
      assert.ok(names.includes(name), `no ${name} alert`);
    }
    for (const rule of rules) {
      assert.match(rule.labels?.severity ?? '', /^(critical|warning)$/, `${rule.alert}: severity`);
      assert.ok(rule.annotations?.summary, `${rule.alert}: summary`);
    }
  });
});

describe('promtool parses every expression', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-promql-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const promtool = (args: string[]) => {
    const run = spawnSync('promtool', args, { encoding: 'utf8', timeout: 30_000 });
    assert.ok(!run.error, `promtool could not run (apt-get install prometheus; .ci/run installs it): ${run.error?.message}`);
    return run;
  };

  it('deploy/prometheus/alerts.yml and prometheus.yml', () => {
    const rules = promtool(['check', 'rules', join(ROOT, 'deploy/prometheus/alerts.yml')]);
    assert.equal(rules.status, 0, rules.stdout + rules.stderr);
    const config = promtool(['check', 'config', '--syntax-only', join(ROOT, 'deploy/prometheus/prometheus.yml')]);
    assert.equal(config.status, 0, config.stdout + config.stderr);
  });

  it("the dashboard's queries, with Grafana's variables filled in", () => {
    // Each query as a recording rule: promtool then parses it as Prometheus would.
    const fill = (expr: string) => expr.replaceAll('$__rate_interval', '1m').replace(/\$(job|node|instance)\b/g, '.*');
    const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    const file = join(dir, 'dashboard-rules.yml');
    writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard', rules: queries.map((expr, i) => ({ record: `dashboard:query_${i}`, expr: fill(expr) })) }] }));
    const run = promtool(['check', 'rules', file]);
    assert.equal(run.status, 0, run.stdout + run.stderr);
  });
});
