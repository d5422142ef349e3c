import type { ClusterClientOptions, RedisClientOptions } from '@liaoliaots/nestjs-redis';
import type { Cluster, Redis } from 'ioredis';
import { toClusterModuleOptions, toRedisModuleOptions, type ResolvedConnections } from './cache-connections';
import { resolveConnection } from './redis-connections';

const nodes = [{ host: '10.0.0.1', port: 7000 }];

function connections(local: unknown, shared: unknown): ResolvedConnections {
  return {
    local: resolveConnection(local, 'connections.local', 'local'),
    shared: resolveConnection(shared, 'connections.shared', 'shared'),
  };
}

describe('the nestjs-redis module options', () => {
  it('puts a single server and a sentinel connection in RedisModule, a cluster in ClusterModule, each under its namespace', () => {
    const resolved = connections(
      { cluster: { nodes }, namespace: 'ai' },
      { sentinel: { sentinels: nodes, name: 'mymaster' } },
    );
    const created: [string, Redis | Cluster][] = [];
    const redis = toRedisModuleOptions(resolved, (role, client) => created.push([role, client]));
    const cluster = toClusterModuleOptions(resolved, (role, client) => created.push([role, client]));

    expect(redis.errorLog).toBe(false);
    expect(cluster.errorLog).toBe(false);
    const [sharedClient] = redis.config as RedisClientOptions[];
    const [localClient] = cluster.config as ClusterClientOptions[];
    expect(redis.config).toHaveLength(1);
    expect(cluster.config).toHaveLength(1);
    expect(sharedClient).toEqual({
      ...(resolved.shared.kind === 'sentinel' && resolved.shared.redis),
      namespace: 'shared',
      onClientCreated: expect.any(Function),
    });
    expect(localClient).toEqual({
      ...(resolved.local.kind === 'cluster' && resolved.local.cluster),
      nodes,
      namespace: 'ai',
      onClientCreated: expect.any(Function),
    });

    const fakeRedis = {} as Redis;
    const fakeCluster = {} as Cluster;
    sharedClient.onClientCreated!(fakeRedis);
    localClient.onClientCreated!(fakeCluster);
    expect(created).toEqual([
      ['shared', fakeRedis],
      ['local', fakeCluster],
    ]);
  });

  it('gives ClusterModule no client when neither connection is a cluster', () => {
    const resolved = connections({ url: 'redis://a' }, { url: 'redis://b' });
    expect(toClusterModuleOptions(resolved, () => undefined).config).toEqual([]);
    expect(
      (toRedisModuleOptions(resolved, () => undefined).config as RedisClientOptions[]).map((c) => c.namespace),
    ).toEqual(['local', 'shared']);
  });
});
