import calculateSlot from 'cluster-key-slot';
import type { Cluster, Redis } from 'ioredis';

const located = new WeakMap<Cluster, ClusterNodes>();

/**
 * Finds the node connection that serves a key on a Redis Cluster, from the
 * client's own slot map, so that a call can wait for that node, and only that
 * node, while it connects. One per cluster client, following the nodes ioredis
 * adds and removes.
 */
export class ClusterNodes {
  private readonly byAddress = new Map<string, Redis>();

  private constructor(private readonly cluster: Cluster) {
    for (const node of cluster.nodes()) this.add(node);
    cluster.on('+node', (node: Redis) => this.add(node));
    cluster.on('-node', (node: Redis) => {
      const address = addressOf(node);
      if (this.byAddress.get(address) === node) this.byAddress.delete(address);
    });
  }

  static of(cluster: Cluster): ClusterNodes {
    let nodes = located.get(cluster);
    if (!nodes) {
      nodes = new ClusterNodes(cluster);
      located.set(cluster, nodes);
    }
    return nodes;
  }

  /** `host:port` of the master that serves `key`'s slot, even while it has no connection; undefined if none. */
  addressFor(key: string): string | undefined {
    return this.cluster.slots[calculateSlot(key)]?.[0];
  }

  /** `host:port` of every master in the slot map, connected or not. */
  masters(): string[] {
    return [...new Set(this.cluster.slots.map((nodes) => nodes?.[0]).filter((address) => address !== undefined))];
  }

  /** The connection to the node at `address`, if the client has one. */
  node(address: string): Redis | undefined {
    return this.byAddress.get(address);
  }

  private add(node: Redis): void {
    this.byAddress.set(addressOf(node), node);
  }
}

/** `host:port`, as ioredis names a node in its slot map. */
export function addressOf(node: Redis): string {
  return `${node.options.host}:${node.options.port}`;
}
