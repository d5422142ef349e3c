import {
  ClusterService,
  RedisService,
  type ClusterModuleOptions,
  type RedisModuleOptions,
} from '@liaoliaots/nestjs-redis';
import type { Cluster, Redis } from 'ioredis';
import type { RedisCacheConnection } from './connection-breakers';
import type { ResolvedConnectionOptions } from './redis-connections';

export type ResolvedConnections = Readonly<Record<RedisCacheConnection, ResolvedConnectionOptions>>;

/** Called with every client the module creates, before it connects. */
export type OnClientCreated = (role: RedisCacheConnection, client: Redis | Cluster) => void;

const ROLES: readonly RedisCacheConnection[] = ['local', 'shared'];

/**
 * `@liaoliaots/nestjs-redis`'s `RedisModule` options: one client per connection
 * that is a single server or a master behind Sentinel, named by its namespace.
 */
export function toRedisModuleOptions(connections: ResolvedConnections, created: OnClientCreated): RedisModuleOptions {
  const config = ROLES.flatMap((role) => {
    const connection = connections[role];
    if (connection.kind === 'cluster') return [];
    return [
      {
        ...connection.redis,
        namespace: connection.namespace,
        onClientCreated: (client: Redis) => created(role, client),
      },
    ];
  });
  return { errorLog: false, config };
}

/** `ClusterModule` options: one ioredis Cluster per connection that is a Redis Cluster, named by its namespace. */
export function toClusterModuleOptions(
  connections: ResolvedConnections,
  created: OnClientCreated,
): ClusterModuleOptions {
  const config = ROLES.flatMap((role) => {
    const connection = connections[role];
    if (connection.kind !== 'cluster') return [];
    return [
      {
        ...connection.cluster,
        nodes: connection.nodes,
        namespace: connection.namespace,
        onClientCreated: (client: Cluster) => created(role, client),
      },
    ];
  });
  return { errorLog: false, config };
}

/**
 * The module's clients by role: an ioredis `Cluster` from `ClusterService` for a
 * cluster connection, a `Redis` from `RedisService` for any other, each under
 * its namespace as before (`RedisService.getOrThrow('local')`,
 * `ClusterService.getOrThrow('local')`).
 */
export class CacheConnections {
  constructor(
    private readonly connections: ResolvedConnections,
    private readonly redis: RedisService,
    private readonly clusters: ClusterService,
  ) {}

  get(role: RedisCacheConnection): Redis | Cluster {
    const { kind, namespace } = this.connections[role];
    return kind === 'cluster' ? this.clusters.getOrThrow(namespace) : this.redis.getOrThrow(namespace);
  }
}
