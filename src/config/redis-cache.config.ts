import type { Cluster, Redis } from 'ioredis';
import type { CacheClientOptions, RedisCacheModuleOptions } from '@wbot/redis-cache';
import { parseHostPorts } from '@wbot/redis-cache';
import { MAX_CACHED_MESSAGE_BYTES } from '../common/limits';
import { CONNECTION_VARIABLES, firstSet, type ConnectionVariables, type Environment } from './environment';

/** Shows where a Redis URL points without its password. */
export function maskRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable URL>';
  }
}

/** The connection one role's variables give (a URL, cluster nodes, or sentinels and a name), if any is set. */
function connectionFrom(environment: Environment, variables: ConnectionVariables): CacheClientOptions | undefined {
  const clusterNodes = environment[variables.clusterNodes];
  if (clusterNodes !== undefined) return { cluster: { nodes: parseHostPorts(clusterNodes, variables.clusterNodes) } };
  const sentinels = environment[variables.sentinels];
  if (sentinels !== undefined) {
    const name = firstSet(environment, variables.sentinelName) as string; // validateEnvironment requires it
    return { sentinel: { sentinels: parseHostPorts(sentinels, variables.sentinels), name } };
  }
  const url = firstSet(environment, variables.url);
  return url === undefined ? undefined : { url };
}

/**
 * The two connections the validated environment gives. Without any shared
 * variable, the messages use the local connection (`sharedIsLocal`).
 */
export function redisConnections(environment: Environment): {
  local: CacheClientOptions;
  shared: CacheClientOptions;
  sharedIsLocal: boolean;
} {
  const local = connectionFrom(environment, CONNECTION_VARIABLES.local) as CacheClientOptions;
  const shared = connectionFrom(environment, CONNECTION_VARIABLES.shared);
  return { local, shared: shared ?? local, sharedIsLocal: shared === undefined };
}

/** Where a connection points, without any password: for the start-up log. */
export function describeConnection(connection: CacheClientOptions): string {
  const addresses = (items: { host: string; port: number }[]) =>
    items.map(({ host, port }) => `${host}:${port}`).join(',');
  if ('cluster' in connection && connection.cluster) return `cluster ${addresses(connection.cluster.nodes)}`;
  if ('sentinel' in connection && connection.sentinel) {
    return `master "${connection.sentinel.name}" via sentinels ${addresses(connection.sentinel.sentinels)}`;
  }
  return maskRedisUrl((connection as { url: string }).url);
}

/** The library's options: the validated environment's limits, on the demo's two named clients. */
export function redisCacheOptions(
  environment: Environment,
  clients: { local: Redis | Cluster; shared: Redis | Cluster },
): RedisCacheModuleOptions {
  return {
    connections: { local: { client: clients.local }, shared: { client: clients.shared } },
    embeddings: {
      maxEntriesPerUser: environment.MAX_ENTRIES_PER_USER,
      ttlSeconds: environment.EMBEDDING_TTL_SECONDS,
      // part of every entry's key: vectors of another dimension count are never returned
      namespace: `demo-${environment.EMBEDDING_DIMENSIONS}d`,
      nearCache:
        environment.EMBEDDING_NEAR_CACHE_BYTES === undefined
          ? undefined
          : { maxBytes: environment.EMBEDDING_NEAR_CACHE_BYTES },
    },
    messages: {
      maxCachedMessages: environment.MAX_CACHED_MESSAGES,
      ttlSeconds: environment.MESSAGES_TTL_SECONDS,
      maxMessageBytes: MAX_CACHED_MESSAGE_BYTES,
      buckets: environment.MESSAGE_BUCKETS,
    },
  };
}
