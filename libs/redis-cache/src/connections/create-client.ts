import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { applyIoredisWorkarounds } from './ioredis-workarounds';
import { isCluster } from './is-cluster';
import { RedisCacheConfigError } from '../errors';
import { FAIL_FAST_REDIS_OPTIONS } from '../options/defaults';
import { resolveConnection, type CacheClientOptions, type ResolvedConnectionOptions } from './connection-options';

/** The clusters whose node connections are prepared: each once, for its whole life, like the workarounds. */
const preparedClusters = new WeakSet<Cluster>();

/** A connection the library creates a client for: any form but the app's own client. */
export type CreatableConnection = Exclude<ResolvedConnectionOptions, { kind: 'existing' }>;

/** The client a resolved connection describes, with an `'error'` listener so a failure never surfaces as an unhandled error event. */
export function connectionClient(connection: CreatableConnection): Redis | Cluster {
  const client = connection.kind === 'cluster' ? newCluster(connection) : newRedis(connection.redis);
  client.on('error', () => {
    // Failures surface as fallbacks on each call; the client reconnects by itself.
  });
  prepareClient(client);
  return client;
}

/**
 * What every client the cache runs on needs, whoever created it: the ioredis
 * workarounds on a single-node or Sentinel client, and on a cluster, node
 * connections that connect at once (`prepareClusterNodes`).
 */
export function prepareClient(client: Redis | Cluster): void {
  if (isCluster(client)) prepareClusterNodes(client);
  else applyIoredisWorkarounds(client);
}

/**
 * Prepares a cluster client's node connections, those it has and those it
 * creates later: each clears its socket timer on close like a single client,
 * and connects as soon as the cluster is ready. ioredis connects a node only on
 * its first command, and with the cluster's offline queue off it rejects every
 * other command sent to that node until the connection is up. Not before the
 * cluster is ready: its ready check, sent to any node, fails on a node that is
 * still connecting, and the whole cluster client then starts over. Once per
 * cluster: a module started again on an app's cluster adds nothing.
 */
export function prepareClusterNodes(cluster: Cluster): void {
  if (preparedClusters.has(cluster)) return;
  preparedClusters.add(cluster);
  const connect = (node: Redis) => {
    if (node.status === 'wait') node.connect().catch(() => undefined);
  };
  for (const node of cluster.nodes()) applyIoredisWorkarounds(node);
  cluster.on('+node', (node: Redis) => {
    applyIoredisWorkarounds(node);
    if (cluster.status === 'ready') connect(node);
  });
  cluster.on('ready', () => cluster.nodes().forEach(connect));
  if (cluster.status === 'ready') cluster.nodes().forEach(connect);
}

function newCluster({ nodes, cluster }: CreatableConnection & { kind: 'cluster' }): Cluster {
  return new Cluster(nodes, cluster);
}

function newRedis({ url, ...options }: RedisOptions & { url?: string }): Redis {
  return url ? new Redis(url, options) : new Redis(options);
}

/**
 * A fail-fast client for any of the connection forms the module takes, for a
 * frontend or worker sharing the cache without Nest: `{ url, ...ioredis }`, a
 * Redis Cluster (`{ cluster: { nodes, ... } }`, giving an ioredis `Cluster`) or a
 * master behind Sentinel (`{ sentinel: { sentinels, name, ... } }`). Invalid
 * options throw RedisCacheConfigError naming the option.
 */
export function createCacheClient(options: CacheClientOptions): Redis | Cluster {
  const connection = resolveConnection(options, 'connection', 'shared');
  if (connection.kind === 'existing') {
    throw new RedisCacheConfigError('connection.client', 'is a client already: use it as it is');
  }
  return connectionClient(connection);
}

/**
 * An ioredis client with the library's fail-fast defaults (no offline queue, no
 * retries per request, a 1 s command timeout as a backstop, capped reconnect with jitter),
 * which `options` may override, and an `'error'` listener so that a failure can
 * never surface as an unhandled error event.
 */
export function createCacheRedis(url: string, options: RedisOptions = {}): Redis {
  const client = new Redis(url, { ...FAIL_FAST_REDIS_OPTIONS, ...options });
  client.on('error', () => {
    // Failures surface as fallbacks on each call; the client reconnects by itself.
  });
  applyIoredisWorkarounds(client);
  return client;
}
