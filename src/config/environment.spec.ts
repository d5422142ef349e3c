import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getMetadataStorage } from 'class-validator';
import type { Redis } from 'ioredis';
import { FAIL_FAST_CLUSTER_OPTIONS, FAIL_FAST_REDIS_OPTIONS, FAIL_FAST_SENTINEL_OPTIONS } from '@wbot/redis-cache';
import { clusterModuleOptions, redisModuleOptions } from '../redis/redis-clients.config';
import { Environment, EnvironmentError, validateEnvironment } from './environment';
import { redisCacheOptions } from './redis-cache.config';

describe('the demo environment', () => {
  it('is documented in .env.example, every variable and nothing else', () => {
    const documented = [
      ...readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8').matchAll(/^([A-Z][A-Z0-9_]*)=/gm),
    ]
      .map((match) => match[1])
      .sort();
    const declared = [
      ...new Set(
        getMetadataStorage()
          .getTargetValidationMetadatas(Environment, '', true, false)
          .map((metadata) => metadata.propertyName),
      ),
    ].sort();
    expect(documented).toEqual(declared);
  });

  it.each([
    [{}, 'REDIS_URL, REDIS_URI, REDIS_CLUSTER_NODES or REDIS_SENTINELS must be set'],
    [{ REDIS_CLUSTER_NODES: 'a:7000,b' }, 'REDIS_CLUSTER_NODES must be comma-separated host:port pairs'],
    [
      { REDIS_CLUSTER_NODES: 'a:7000,b:70000' },
      'REDIS_CLUSTER_NODES[1].port must be an integer from 1 to 65535 (got 70000)',
    ],
    [{ REDIS_SENTINELS: 'a:26379' }, 'REDIS_SENTINEL_NAME must be set with REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_NAME: '' }, 'REDIS_SENTINEL_NAME must be set with REDIS_SENTINELS'],
    [
      { REDIS_URL: 'redis://x', REDIS_CLUSTER_NODES: 'a:7000' },
      'set only one of REDIS_URL (or REDIS_URI) and REDIS_CLUSTER_NODES: they configure the same connection',
    ],
    [
      { REDIS_CLUSTER_NODES: 'a:7000', REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_NAME: 'm' },
      'set only one of REDIS_CLUSTER_NODES and REDIS_SENTINELS',
    ],
    [
      { REDIS_URL: 'redis://x', REDIS_SHARED_URL: 'redis://y', REDIS_SHARED_CLUSTER_NODES: 'a:7000' },
      'set only one of REDIS_SHARED_URL and REDIS_SHARED_CLUSTER_NODES',
    ],
    [
      { REDIS_URL: 'redis://x', REDIS_SHARED_SENTINELS: 'a:26379' },
      'REDIS_SHARED_SENTINEL_NAME (or REDIS_SENTINEL_NAME) must be set with REDIS_SHARED_SENTINELS',
    ],
    [
      { REDIS_URL: 'redis://x', REDIS_SHARED_SENTINELS: 'a:x' },
      'REDIS_SHARED_SENTINELS must be comma-separated host:port pairs',
    ],
    [{ REDIS_URL: 'redis://x', MESSAGE_BUCKETS: '0' }, 'MESSAGE_BUCKETS must not be less than 1'],
    [
      { REDIS_URL: 'redis://x', MESSAGE_BUCKETS: '11', MAX_CACHED_MESSAGES: '10' },
      'MESSAGE_BUCKETS must not exceed MAX_CACHED_MESSAGES (10)',
    ],
    [
      { REDIS_URL: 'redis://x', MESSAGE_BUCKETS: '10001' },
      'MESSAGE_BUCKETS must not exceed MAX_CACHED_MESSAGES (10000)',
    ],
  ])('refuses %j, naming the variable', (raw, message) => {
    expect(() => validateEnvironment(raw)).toThrow(EnvironmentError);
    expect(() => validateEnvironment(raw)).toThrow(message);
  });

  it('maps each connection form onto the named clients, with the fail-fast options', () => {
    const forms = validateEnvironment({
      REDIS_CLUSTER_NODES: ' 10.0.0.1:7000 , [::1]:7001',
      REDIS_SHARED_SENTINELS: 's1:26379,s2:26380',
      REDIS_SENTINEL_NAME: 'mymaster',
      MESSAGE_BUCKETS: '12',
    });
    expect(clusterModuleOptions(forms)).toEqual({
      config: [
        {
          namespace: 'local',
          ...FAIL_FAST_CLUSTER_OPTIONS,
          nodes: [
            { host: '10.0.0.1', port: 7000 },
            { host: '::1', port: 7001 },
          ],
        },
      ],
      closeClient: false,
      readyLog: false,
      errorLog: false,
    });
    expect(redisModuleOptions(forms).config).toEqual([
      {
        namespace: 'shared',
        ...FAIL_FAST_SENTINEL_OPTIONS,
        sentinels: [
          { host: 's1', port: 26379 },
          { host: 's2', port: 26380 },
        ],
        name: 'mymaster',
      },
    ]);

    const sentinels = validateEnvironment({
      REDIS_SENTINELS: 's1:26379',
      REDIS_SENTINEL_NAME: 'ai',
      REDIS_SHARED_SENTINELS: 's2:26379',
      REDIS_SHARED_SENTINEL_NAME: 'chat',
    });
    expect(redisModuleOptions(sentinels).config).toEqual([
      { namespace: 'local', ...FAIL_FAST_SENTINEL_OPTIONS, sentinels: [{ host: 's1', port: 26379 }], name: 'ai' },
      { namespace: 'shared', ...FAIL_FAST_SENTINEL_OPTIONS, sentinels: [{ host: 's2', port: 26379 }], name: 'chat' },
    ]);
    expect(clusterModuleOptions(sentinels).config).toEqual([]);

    const urls = validateEnvironment({ REDIS_URI: 'redis://a:6379' });
    expect(redisModuleOptions(urls).config).toEqual([
      { namespace: 'local', ...FAIL_FAST_REDIS_OPTIONS, url: 'redis://a:6379' },
      { namespace: 'shared', ...FAIL_FAST_REDIS_OPTIONS, url: 'redis://a:6379' },
    ]);
  });

  it('maps the limits onto the library options, on the named clients', () => {
    const clients = { local: {} as Redis, shared: {} as Redis };
    const options = redisCacheOptions(validateEnvironment({ REDIS_URL: 'redis://x', MESSAGE_BUCKETS: '12' }), clients);
    expect(options.connections).toEqual({ local: { client: clients.local }, shared: { client: clients.shared } });
    expect(options.messages?.buckets).toBe(12);
    expect(
      redisCacheOptions(validateEnvironment({ REDIS_URL: 'redis://x' }), clients).messages?.buckets,
    ).toBeUndefined();
  });

  it('turns the near cache on with EMBEDDING_NEAR_CACHE_BYTES, and leaves it off without', () => {
    const clients = { local: {} as Redis, shared: {} as Redis };
    const near = validateEnvironment({ REDIS_URL: 'redis://x', EMBEDDING_NEAR_CACHE_BYTES: '1048576' });
    expect(redisCacheOptions(near, clients).embeddings?.nearCache).toEqual({ maxBytes: 1_048_576 });
    const off = validateEnvironment({ REDIS_URL: 'redis://x' });
    expect(redisCacheOptions(off, clients).embeddings?.nearCache).toBeUndefined();
    expect(() => validateEnvironment({ REDIS_URL: 'redis://x', EMBEDDING_NEAR_CACHE_BYTES: '0' })).toThrow(
      /EMBEDDING_NEAR_CACHE_BYTES must not be less than 1/,
    );
  });
});
