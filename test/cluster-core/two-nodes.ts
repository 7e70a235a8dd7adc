import { after, before } from 'node:test';
import { RawClient } from '../helpers/raw-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import type { Config, DeepPartial } from '../../src/config/schema.js';
import { dropPrefix, randomPrefix, TEST_REDIS_URL } from '../cluster/redis-helpers.js';

export interface TwoNodes {
  /** Set in `before`. */
  a: TestServer;
  b: TestServer;
  /** Closed in `after`; tests add the clients they open themselves. */
  clients: RawClient[];
  connect(server: TestServer): Promise<RawClient>;
  register(server: TestServer, nick: string, caps?: string[]): Promise<RawClient>;
}

/**
 * Two servers in this process joined through the test Redis under a fresh key prefix, for the
 * describe block that calls it: started in `before`; clients, servers and keys gone in `after`.
 * `overrides` go to both servers' configuration (opers; a shared `data_dir` for one store).
 */
export function twoNodes(label: string, overrides: DeepPartial<Config> = {}): TwoNodes {
  const prefix = randomPrefix(label);
  const nodes: TwoNodes = {
    a: undefined as unknown as TestServer,
    b: undefined as unknown as TestServer,
    clients: [],
    async connect(server) {
      const c = await RawClient.connect({ port: server.port });
      nodes.clients.push(c);
      return c;
    },
    async register(server, nick, caps = []) {
      const c = await RawClient.register(server.port, nick, caps);
      nodes.clients.push(c);
      return c;
    },
  };
  before(async () => {
    nodes.a = await startTestServer({ ...overrides, cluster: { url: TEST_REDIS_URL, prefix } });
    nodes.b = await startTestServer({ ...overrides, cluster: { url: TEST_REDIS_URL, prefix } });
  });
  after(async () => {
    for (const c of nodes.clients) c.close();
    await nodes.a?.stop();
    await nodes.b?.stop();
    await dropPrefix(TEST_REDIS_URL, prefix);
  });
  return nodes;
}
