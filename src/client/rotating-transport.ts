/**
 * Several servers of one network as one Transport: each connection goes to the next server in
 * the list, so a reconnect after a server went away (a rolling restart, a crash) goes to
 * another one, and one that refuses is skipped on the next attempt. The list is read on each
 * connect, so it may change (a restarted node on a new address).
 */
import type { Transport } from './transport.js';

export function rotatingTransport(servers: readonly Transport[] | (() => readonly Transport[])): Transport {
  const list = typeof servers === 'function' ? servers : () => servers;
  let next = 0;
  let last: Transport | null = null;
  return {
    describe: () => (last ?? list()[0])?.describe() ?? 'no server',
    connect: (handlers) => {
      const current = list();
      if (current.length === 0) throw new Error('rotatingTransport: no server to connect to');
      last = current[next++ % current.length]!;
      return last.connect(handlers);
    },
  };
}
