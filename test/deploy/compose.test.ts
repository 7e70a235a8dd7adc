import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { ROOT } from '../helpers/cli-server.js';

// deploy/compose.yaml cannot be brought up here (no images for Redis, PostgreSQL or HAProxy and
// no registry to pull them from). What can rot is checked: each node's environment is a valid
// Parley configuration (the same loader `parley serve` uses), and the names and ports agree
// across compose.yaml, haproxy.cfg and prometheus.yml.

interface Service {
  build?: { context: string; dockerfile: string };
  image?: string;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }> | string[];
  networks?: Record<string, { ipv4_address?: string } | null> | string[];
  volumes?: string[];
}

const compose = parse(readFileSync(join(ROOT, 'deploy/compose.yaml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const haproxyCfg = readFileSync(join(ROOT, 'deploy/haproxy/haproxy.cfg'), 'utf8');
const prometheus = parse(readFileSync(join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8')) as {
  scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
};
const nodes = Object.entries(compose.services).filter(([name]) => /^parley\d+$/.test(name));
const port = (address: string) => Number(address.split(':').at(-1));

describe('deploy/compose.yaml', () => {
  it('has Redis, PostgreSQL, HAProxy and three Parley nodes built from the Dockerfile', () => {
    for (const name of ['redis', 'postgres', 'haproxy']) assert.ok(compose.services[name], name);
    assert.equal(nodes.length, 3);
    for (const [, node] of nodes) {
      assert.ok(existsSync(join(ROOT, 'deploy', node.build!.context, node.build!.dockerfile)));
      const deps = node.depends_on as Record<string, { condition: string }>;
      for (const dep of ['redis', 'postgres']) assert.equal(deps[dep]?.condition, 'service_healthy');
    }
  });

  it("each node's environment is a valid configuration that joins the cluster and the shared store", () => {
    const names = new Set<string>();
    for (const [service, node] of nodes) {
      const env = node.environment!;
      // A wrong key or value here stops `parley serve` at start, naming the variable.
      const config = loadConfig({ env });
      assert.equal(new URL(config.cluster.url!).hostname, 'redis', `${service}: cluster.url`);
      assert.equal(new URL(config.store.url!).hostname, 'postgres', `${service}: store.url`);
      assert.deepEqual(config.listen, [], `${service}: clients come through HAProxy only`);
      names.add(config.server.name);
    }
    assert.equal(names.size, nodes.length, 'every node has its own server.name');
  });

  it('the nodes trust HAProxy, and only it', () => {
    const networks = compose.services.haproxy!.networks as Record<string, { ipv4_address: string }>;
    const address = Object.values(networks)[0]!.ipv4_address;
    for (const [, node] of nodes) assert.equal(node.environment!.PARLEY_PROXY__TRUSTED, `${address}/32`);
  });

  it("haproxy.cfg sends to the nodes' PROXY, TLS PROXY and HTTP ports, and compose mounts it", () => {
    assert.ok(compose.services.haproxy!.volumes!.some((v) => v.startsWith('./haproxy/haproxy.cfg:')));
    for (const [service, node] of nodes) {
      const env = node.environment!;
      const http = port(env.PARLEY_HTTP__LISTEN!);
      assert.match(haproxyCfg, new RegExp(`server ${service} ${service}:${port(env.PARLEY_PROXY__LISTEN!)} check port ${http} send-proxy-v2`));
      assert.match(haproxyCfg, new RegExp(`server ${service} ${service}:${port(env.PARLEY_PROXY__TLS_LISTEN!)} check port ${http} send-proxy-v2`));
      assert.match(haproxyCfg, new RegExp(`server ${service} ${service}:${http} check`));
    }
  });

  it("prometheus.yml scrapes every node's metrics.listen and HAProxy's exporter", () => {
    const targets = prometheus.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets));
    for (const [service, node] of nodes) assert.ok(targets.includes(`${service}:${port(node.environment!.PARLEY_METRICS__LISTEN!)}`), service);
    assert.ok(targets.includes('haproxy:8404'));
    assert.match(haproxyCfg, /bind :8404\n\s+http-request use-service prometheus-exporter/);
  });
});
