/**
 * What only the cluster layer sees, counted without the core knowing: gaps the bus delivers,
 * dead nodes this node reaped, and how long publishing into a room log takes. app.ts calls
 * `instrumentCluster` on the Cluster it opened, before the Server registers its handlers: the
 * bus's `onDelivery` and the lease's `onEvent` pass each delivery or event on unchanged after
 * counting it, and `publish` is timed. The core's view of the Cluster interface is the same.
 */
import type { Cluster } from '../cluster/cluster.js';

export interface ClusterCounters {
  clusterGap(reason: string): void;
  clusterReaped(users: number): void;
  clusterReapDone(): void;
  clusterPublished(seconds: number): void;
}

export function instrumentCluster(cluster: Cluster, counters: ClusterCounters): void {
  const { bus, nodes } = cluster;
  // The methods are replaced on the objects themselves (bound to them), so whatever else the
  // bus and the lease have passes through untouched.
  const onDelivery = bus.onDelivery.bind(bus);
  bus.onDelivery = (handler) =>
    onDelivery((delivery) => {
      if (delivery.type === 'gap') counters.clusterGap(delivery.reason);
      handler(delivery);
    });
  const publish = bus.publish.bind(bus);
  // One clock read each way per room message (not per recipient), and the histogram's own cost.
  bus.publish = (room, event) => {
    const started = performance.now();
    const stamped = publish(room, event);
    stamped.then(
      () => counters.clusterPublished((performance.now() - started) / 1000),
      () => {},
    );
    return stamped;
  };
  const onEvent = nodes.onEvent.bind(nodes);
  nodes.onEvent = (handler) =>
    onEvent((event) => {
      if (event.type === 'reaped') {
        counters.clusterReaped(event.users.length);
        if (event.done) counters.clusterReapDone();
      }
      handler(event);
    });
}
