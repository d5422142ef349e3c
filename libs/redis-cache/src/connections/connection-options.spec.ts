import { FAIL_FAST_CLUSTER_OPTIONS, FAIL_FAST_REDIS_OPTIONS, FAIL_FAST_SENTINEL_OPTIONS } from '../options/defaults';
import { RedisCacheConfigError } from '../errors';
import { parseHostPorts, resolveConnection, type ResolvedConnectionOptions } from './connection-options';

const resolve = (value: unknown): ResolvedConnectionOptions => resolveConnection(value, 'connections.local', 'local');

function configError(call: () => unknown): RedisCacheConfigError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(RedisCacheConfigError);
    return error as RedisCacheConfigError;
  }
  throw new Error('expected a RedisCacheConfigError, but nothing was thrown');
}

const nodes = [
  { host: '10.0.0.1', port: 7000 },
  { host: '10.0.0.2', port: 7001 },
];

describe('resolveConnection', () => {
  it('keeps a URL connection a single server with the fail-fast options, which its own options override', () => {
    expect(resolve({ url: 'redis://cache:6379', commandTimeout: 250 })).toEqual({
      kind: 'standalone',
      namespace: 'local',
      redis: { ...FAIL_FAST_REDIS_OPTIONS, url: 'redis://cache:6379', commandTimeout: 250 },
    });
  });

  it('makes a cluster connection with the cluster fail-fast options and merges redisOptions key by key', () => {
    const resolved = resolve({
      cluster: { nodes, maxRedirections: 5, redisOptions: { password: 'secret', commandTimeout: 50 } },
      namespace: 'ai',
    });
    expect(resolved).toEqual({
      kind: 'cluster',
      namespace: 'ai',
      nodes,
      cluster: {
        ...FAIL_FAST_CLUSTER_OPTIONS,
        maxRedirections: 5,
        redisOptions: { ...FAIL_FAST_CLUSTER_OPTIONS.redisOptions, password: 'secret', commandTimeout: 50 },
      },
    });
  });

  it('turns the cluster-level offline queue off and bounds redirections, without delayed retries', () => {
    const { cluster } = resolve({ cluster: { nodes } }) as Extract<ResolvedConnectionOptions, { kind: 'cluster' }>;
    expect(cluster).toMatchObject({
      enableOfflineQueue: false,
      maxRedirections: 3,
      retryDelayOnFailover: 0,
      retryDelayOnClusterDown: 0,
      retryDelayOnTryAgain: 0,
      slotsRefreshTimeout: 1000,
    });
    // the nodes take the single-node deadline options, but never a retry strategy or queue setting of their own
    expect(cluster.redisOptions).toEqual({
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: 1000,
      connectTimeout: 1000,
      socketTimeout: 2000,
      disconnectTimeout: 200,
    });
  });

  it('retries a lost cluster with capped, jittered delays that never give up', () => {
    const { cluster } = resolve({ cluster: { nodes } }) as Extract<ResolvedConnectionOptions, { kind: 'cluster' }>;
    const delays = Array.from({ length: 200 }, (_, attempt) => cluster.clusterRetryStrategy!(attempt));
    expect(delays.every((delay) => typeof delay === 'number' && delay >= 50 && delay <= 1000)).toBe(true);
    expect(new Set(delays.slice(20)).size).toBeGreaterThan(1);
  });

  it('makes a sentinel connection with the failover detector and the single-node fail-fast options', () => {
    const sentinels = [{ host: 's1', port: 26379 }];
    const resolved = resolve({ sentinel: { sentinels, name: 'mymaster', password: 'pw', db: 2 } });
    expect(resolved).toEqual({
      kind: 'sentinel',
      namespace: 'local',
      redis: { ...FAIL_FAST_SENTINEL_OPTIONS, sentinels, name: 'mymaster', password: 'pw', db: 2 },
    });
    expect(resolved.kind === 'sentinel' && resolved.redis).toMatchObject({
      enableOfflineQueue: false,
      commandTimeout: 1000,
      failoverDetector: true,
    });
  });

  it.each([
    ['a string', 'redis://x', 'connections.local'],
    ['both cluster and sentinel', { cluster: { nodes }, sentinel: {} }, 'connections.local'],
    ['a cluster that is not an object', { cluster: [] }, 'connections.local.cluster'],
    ['a cluster without nodes', { cluster: {} }, 'connections.local.cluster.nodes'],
    ['a cluster with no nodes', { cluster: { nodes: [] } }, 'connections.local.cluster.nodes'],
    ['a node without a host', { cluster: { nodes: [{ port: 1 }] } }, 'connections.local.cluster.nodes[0].host'],
    [
      'a node with port 0',
      { cluster: { nodes: [nodes[0], { host: 'h', port: 0 }] } },
      'connections.local.cluster.nodes[1].port',
    ],
    ['a node given as a string', { cluster: { nodes: ['h:1'] } }, 'connections.local.cluster.nodes[0].host'],
    [
      'redisOptions that are not an object',
      { cluster: { nodes, redisOptions: 1 } },
      'connections.local.cluster.redisOptions',
    ],
    ['ioredis options beside cluster', { cluster: { nodes }, password: 'x' }, 'connections.local.password'],
    ['a url beside sentinel', { sentinel: { sentinels: nodes, name: 'm' }, url: 'redis://x' }, 'connections.local.url'],
    ['a sentinel without a name', { sentinel: { sentinels: nodes } }, 'connections.local.sentinel.name'],
    ['a sentinel without sentinels', { sentinel: { name: 'm' } }, 'connections.local.sentinel.sentinels'],
    [
      'a sentinel with a bad port',
      { sentinel: { name: 'm', sentinels: [{ host: 'h', port: 1.5 }] } },
      'connections.local.sentinel.sentinels[0].port',
    ],
    ['an http URL', { url: 'http://x' }, 'connections.local.url'],
    ['an empty namespace', { cluster: { nodes }, namespace: '' }, 'connections.local.namespace'],
  ])('rejects %s, naming %s', (_case, value, option) => {
    expect(configError(() => resolve(value)).option).toBe(option);
  });
});

describe('parseHostPorts', () => {
  it('parses comma-separated host:port pairs, spaces and IPv6 brackets included', () => {
    expect(parseHostPorts('10.0.0.1:7000, redis-2:7001,[::1]:7002', 'REDIS_CLUSTER_NODES')).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-2', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
  });

  it.each([
    ['', 'REDIS_SENTINELS'],
    ['redis-1', 'REDIS_SENTINELS'],
    ['redis-1:', 'REDIS_SENTINELS'],
    ['redis-1:70000', 'REDIS_SENTINELS[0].port'],
    ['a:1,b', 'REDIS_SENTINELS'],
  ])('rejects %j, naming %s', (value, option) => {
    expect(configError(() => parseHostPorts(value, 'REDIS_SENTINELS')).option).toBe(option);
  });
});
