import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { applyIoredisWorkarounds } from './ioredis-workarounds';
import { resolveConnection, type RedisConnectionOptions, type ResolvedConnectionOptions } from './redis-connections';

/** The client a resolved connection describes, with an `'error'` listener so a failure never surfaces as an unhandled error event. */
export function connectionClient(connection: ResolvedConnectionOptions): Redis | Cluster {
  const client = connection.kind === 'cluster' ? newCluster(connection) : newRedis(connection.redis);
  client.on('error', () => {
    // Failures surface as fallbacks on each call; the client reconnects by itself.
  });
  return client;
}

/**
 * Prepares a cluster client's node connections as ioredis creates them: each
 * connects at once, and clears its socket timer on close like a single client.
 * ioredis connects a node only on its first command, and with the cluster's
 * offline queue off it rejects every other command sent to that node until the
 * connection is up: each node's first burst of calls would fall back.
 */
export function prepareClusterNodes(cluster: Cluster): void {
  cluster.on('+node', (node: Redis) => {
    applyIoredisWorkarounds(node);
    if (node.status === 'wait') node.connect().catch(() => undefined);
  });
}

function newCluster({ nodes, cluster }: ResolvedConnectionOptions & { kind: 'cluster' }): Cluster {
  const client = new Cluster(nodes, cluster);
  prepareClusterNodes(client);
  return client;
}

function newRedis({ url, ...options }: RedisOptions & { url?: string }): Redis {
  const client = url ? new Redis(url, options) : new Redis(options);
  applyIoredisWorkarounds(client);
  return client;
}

/**
 * A fail-fast client for any of the connection forms the module takes, for a
 * frontend or worker sharing the cache without Nest: `{ url, ...ioredis }`, a
 * Redis Cluster (`{ cluster: { nodes, ... } }`, giving an ioredis `Cluster`) or a
 * master behind Sentinel (`{ sentinel: { sentinels, name, ... } }`). Invalid
 * options throw RedisCacheConfigError naming the option.
 */
export function createCacheClient(options: RedisConnectionOptions): Redis | Cluster {
  return connectionClient(resolveConnection(options, 'connection', 'shared'));
}
