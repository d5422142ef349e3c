import type {
  ClusterClientOptions,
  ClusterModuleOptions,
  RedisClientOptions,
  RedisModuleOptions,
} from '@liaoliaots/nestjs-redis';
import {
  FAIL_FAST_CLUSTER_OPTIONS,
  FAIL_FAST_REDIS_OPTIONS,
  FAIL_FAST_SENTINEL_OPTIONS,
  type CacheClientOptions,
  type ClusterConnectionOptions,
} from '@wbot/redis-cache';
import type { Environment } from '../config/environment';
import { redisConnections } from '../config/redis-cache.config';

/** The demo's two named Redis clients, as `@liaoliaots/nestjs-redis` names them. */
export const REDIS_CLIENTS = ['local', 'shared'] as const;
export type RedisClientName = (typeof REDIS_CLIENTS)[number];

function isCluster(connection: CacheClientOptions): connection is ClusterConnectionOptions {
  return 'cluster' in connection && connection.cluster !== undefined;
}

function namedConnections(environment: Environment): [RedisClientName, CacheClientOptions][] {
  const connections = redisConnections(environment);
  return REDIS_CLIENTS.map((name) => [name, connections[name]]);
}

/**
 * `RedisModule`'s options: a client per connection that is a server or a
 * Sentinel master, with the library's fail-fast options, so that a call while
 * Redis is down gives its fallback at once and nothing it sent is replayed later.
 * The demo closes the clients itself (`RedisClientsCloser`).
 */
export function redisModuleOptions(environment: Environment): RedisModuleOptions {
  const config = namedConnections(environment).flatMap(([namespace, connection]): RedisClientOptions[] => {
    if (isCluster(connection)) return [];
    if ('sentinel' in connection && connection.sentinel) {
      return [{ namespace, ...FAIL_FAST_SENTINEL_OPTIONS, ...connection.sentinel }];
    }
    return [{ namespace, ...FAIL_FAST_REDIS_OPTIONS, url: (connection as { url: string }).url }];
  });
  return { config, closeClient: false, readyLog: false, errorLog: false };
}

/** `ClusterModule`'s options: a client per connection that is a Redis Cluster, fail-fast like the others. */
export function clusterModuleOptions(environment: Environment): ClusterModuleOptions {
  const config = namedConnections(environment).flatMap(([namespace, connection]): ClusterClientOptions[] =>
    isCluster(connection) ? [{ namespace, ...FAIL_FAST_CLUSTER_OPTIONS, nodes: connection.cluster.nodes }] : [],
  );
  return { config, closeClient: false, readyLog: false, errorLog: false };
}
