import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli-server.js';

// Runs Debian's HAProxy with deploy/haproxy/haproxy.cfg as committed, only its addresses moved
// onto this machine: the public binds to free loopback ports, nodes parley1-3 to real Parley
// nodes' ports or, for one that is not there, to a closed port (so its checks fail), the
// runtime API socket into a temp dir, and maxconn within this sandbox's fd limit. Everything
// else (send-proxy-v2, leastconn, the /readyz checks, retries, timeouts) is what ships.

export const HAPROXY = ['haproxy', '/usr/sbin/haproxy'].find((bin) => spawnSync(bin, ['-v']).status === 0);

export interface NodePorts {
  proxy: number; // proxy.listen (plain, PROXY header)
  proxyTls: number; // proxy.tls_listen
  http: number; // http.listen, which answers /readyz
}

export interface Frontends {
  irc: number;
  ircs: number;
  http: number;
  stats: number;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The committed config with its addresses replaced as described above: `nodes[i]` is parley{i+1}, null if absent. */
export function localConfig(nodes: (NodePorts | null)[], front: Frontends, closedPort: number, socket: string): string {
  let text = readFileSync(join(ROOT, 'deploy/haproxy/haproxy.cfg'), 'utf8');
  const replace = (from: RegExp, to: string) => {
    assert.match(text, from, `haproxy.cfg no longer has ${from}`);
    text = text.replace(from, to);
  };
  replace(/stats socket \/var\/lib\/haproxy\/admin\.sock/, `stats socket ${socket}`);
  replace(/^(\s*)maxconn 60000$/m, '$1maxconn 1000');
  replace(/bind :6667$/m, `bind 127.0.0.1:${front.irc}`);
  replace(/bind :6697$/m, `bind 127.0.0.1:${front.ircs}`);
  replace(/bind :8080$/m, `bind 127.0.0.1:${front.http}`);
  replace(/bind :8404$/m, `bind 127.0.0.1:${front.stats}`);
  for (let i = 0; i < 3; i++) {
    const node = nodes[i];
    const at = (port: number | undefined) => `127.0.0.1:${node ? port : closedPort} check port ${node ? node.http : closedPort}`;
    replace(new RegExp(`parley${i + 1}:6670 check port 8080`), at(node?.proxy));
    replace(new RegExp(`parley${i + 1}:6671 check port 8080`), at(node?.proxyTls));
    replace(new RegExp(`parley${i + 1}:8080 check`), `127.0.0.1:${node ? node.http : closedPort} check`);
  }
  return text;
}

export class HaproxyProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly socket: string,
    readonly output: { text: string },
  ) {}

  static async start(configFile: string, config: string, socket: string): Promise<HaproxyProcess> {
    assert.ok(HAPROXY, 'haproxy is not installed (apt-get install haproxy; .ci/run installs it)');
    writeFileSync(configFile, config);
    const check = spawnSync(HAPROXY, ['-c', '-f', configFile], { encoding: 'utf8' });
    assert.equal(check.status, 0, `haproxy -c: ${check.stdout}${check.stderr}`);
    // -db: foreground, no daemon; the test owns the process and ends it.
    const child = spawn(HAPROXY, ['-db', '-f', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    const output = { text: '' };
    child.stdout!.on('data', (d: Buffer) => (output.text += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output.text += d.toString()));
    const haproxy = new HaproxyProcess(child, socket, output);
    for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(existsSync(socket), `haproxy did not start:\n${output.text}`);
    return haproxy;
  }

  /** One command on the runtime API (the admin stats socket). */
  command(line: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const conn = net.connect(this.socket, () => conn.end(`${line}\n`));
      let answer = '';
      conn.setEncoding('utf8');
      conn.on('data', (d: string) => (answer += d));
      conn.on('end', () => resolve(answer));
      conn.on('error', reject);
    });
  }

  /** Operational state of each server of a backend, from `show stat` ("UP", "DOWN", "DRAIN", "MAINT", "UP 1/2"...). */
  states(backend: string): Promise<Record<string, string>> {
    return this.stat(backend, 'status');
  }

  /** How many connections each server of a backend holds now. */
  async sessions(backend: string): Promise<Record<string, number>> {
    const current = await this.stat(backend, 'scur');
    return Object.fromEntries(Object.entries(current).map(([server, n]) => [server, Number(n)]));
  }

  /** One column of `show stat` for each server of a backend. */
  private async stat(backend: string, column: string): Promise<Record<string, string>> {
    const csv = await this.command('show stat');
    const [header, ...rows] = csv.replace(/^# /, '').trim().split('\n');
    const cols = header!.split(',');
    const values: Record<string, string> = {};
    for (const row of rows) {
      const cells = row.split(',');
      const get = (name: string) => cells[cols.indexOf(name)]!;
      if (get('pxname') === backend && get('svname') !== 'BACKEND' && get('svname') !== 'FRONTEND') values[get('svname')] = get(column);
    }
    return values;
  }

  /** Waits (bounded) until a server's state matches. */
  async waitFor(backend: string, server: string, state: RegExp, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: string | undefined;
    while (Date.now() < deadline) {
      last = (await this.states(backend))[server];
      if (last !== undefined && state.test(last)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`${backend}/${server} is ${last}, not ${state}, after ${timeoutMs} ms`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}
