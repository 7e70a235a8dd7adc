import { IrcClient } from '../../src/client/client.js';
import type { ClientEvents } from '../../src/client/events.js';
import { nodeTransport } from '../../src/client/node-transport.js';
import { scramSha256 } from '../../src/client/node-scram.js';
import type { ClientOptions } from '../../src/client/options.js';

/** An engine client for 127.0.0.1:`port`, not yet connected. A throwing listener fails the test run. */
export function engineClient(port: number, nick: string, options: Partial<ClientOptions> = {}): IrcClient {
  return new IrcClient({
    transport: nodeTransport({ host: '127.0.0.1', port }),
    nick,
    scram: scramSha256,
    reconnect: false,
    onListenerError: (err) =>
      process.nextTick(() => {
        throw err;
      }),
    ...options,
  });
}

/** The next `name` event matching `matches`, or a rejection after `timeoutMs`. */
export function nextEvent<K extends keyof ClientEvents>(
  client: IrcClient,
  name: K,
  matches: (payload: ClientEvents[K]) => boolean = () => true,
  timeoutMs = 5000,
): Promise<ClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no '${String(name)}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = client.on(name, (payload) => {
      if (!matches(payload)) return;
      clearTimeout(timer);
      off();
      resolve(payload);
    });
  });
}

/** Connect and wait until registered (end of MOTD). */
export async function connected(client: IrcClient, timeoutMs = 5000): Promise<IrcClient> {
  const ready = nextEvent(client, 'connected', () => true, timeoutMs);
  client.connect();
  await ready;
  return client;
}

/** Round trip: everything the server sent before answering has been handled. */
export async function sync(client: IrcClient): Promise<void> {
  const token = `sync-${Math.random().toString(36).slice(2)}`;
  const pong = client.waitFor((m) => m.command === 'PONG' && m.params.at(-1) === token);
  client.send(`PING ${token}`);
  await pong;
}
