import { RedisModule, RedisService } from '@liaoliaots/nestjs-redis';
import { Injectable, Logger, Module, type INestApplicationContext } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import {
  EmbeddingCacheService,
  FAIL_FAST_REDIS_OPTIONS,
  InjectRedisCacheConnection,
  MessageCacheService,
  RedisCacheConfigError,
  RedisCacheHealthIndicator,
  RedisCacheModule,
  createCacheRedis,
  getRedisCacheConnectionToken,
  type RedisCacheModuleOptions,
} from '@wbot/redis-cache';
import { RedisServer } from '../../../../test/support/redis-server';
import { embeddingKeys } from '../../src/keys';
import { waitUntilReady } from '../../../../test/support/redis-client';
import { until } from '../../../../test/support/until';

/** Every app booted in a test, closed after it even when an assertion failed first (closing twice is harmless). */
const booted: INestApplicationContext[] = [];
afterEach(async () => {
  await Promise.all(booted.splice(0).map((app) => app.close()));
});

async function boot(imports: unknown[]): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({ imports: imports as never[] }).compile();
  booted.push(moduleRef);
  return moduleRef.init();
}

const connection = (app: INestApplicationContext, name: 'local' | 'shared') =>
  app.get<Redis>(getRedisCacheConnectionToken(name));

/** How many clients a server has, from its own CLIENT LIST (the counting connection included). */
async function clientCount(server: RedisServer): Promise<number> {
  const inspect = createCacheRedis(server.url);
  await waitUntilReady(inspect);
  const list = (await inspect.client('LIST')) as string;
  await inspect.quit();
  return list.trim().split('\n').length;
}

describe('RedisCacheModule', () => {
  let local: RedisServer;
  let shared: RedisServer;
  let options: RedisCacheModuleOptions;

  beforeAll(async () => {
    [local, shared] = await Promise.all([RedisServer.start(), RedisServer.start()]);
    options = { connections: { local: { url: local.url }, shared: { url: shared.url } } };
  });
  afterAll(async () => {
    await Promise.all([local.stop(), shared.stop()]);
  });

  it('forRoot binds embeddings to the local connection and messages to the shared one', async () => {
    const app = await boot([RedisCacheModule.forRoot(options)]);
    const embeddings = app.get(EmbeddingCacheService);
    const messages = app.get(MessageCacheService);

    expect(await embeddings.cacheEmbedding('user-1', 'hello', [1, 2, 3])).toBe(true);
    expect(await messages.cacheMessages('conversation-1', [{ role: 'user', content: 'hi' }])).toBe(true);

    expect(await connection(app, 'local').dbsize()).toBe(2);
    // the conversation's list and id set, and its bucket's LRU, sizes and total
    expect(await connection(app, 'shared').dbsize()).toBe(5);
    expect(await connection(app, 'local').keys('wbot:msg:*')).toEqual([]);
    expect(await connection(app, 'shared').keys('wbot:emb:*')).toEqual([]);
    await connection(app, 'local').flushall();
    await connection(app, 'shared').flushall();
    await app.close();
  });

  it('creates its clients without connecting them, connects them at init, and closes them on shutdown', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [RedisCacheModule.forRoot(options)] }).compile();
    booted.push(moduleRef);
    const clients = [connection(moduleRef, 'local'), connection(moduleRef, 'shared')];
    expect(clients.map((client) => client.status)).toEqual(['wait', 'wait']);
    await moduleRef.init();
    expect(clients.map((client) => client.status)).toEqual(['ready', 'ready']);
    expect(clients.map((client) => client.options.port)).toEqual([local.port, shared.port]);
    const ended = clients.map((client) => new Promise((resolve) => client.once('end', resolve)));
    await moduleRef.close();
    await Promise.all(ended);
    expect(clients.map((client) => client.status)).toEqual(['end', 'end']);
  });

  it('with readyTimeoutMs 0, starts without waiting, connects in the background, and health turns up with no call', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const app = await boot([RedisCacheModule.forRoot({ ...options, readyTimeoutMs: 0 })]);
      const clients = [connection(app, 'local'), connection(app, 'shared')];
      // the connect has started, and the start did not wait for it
      expect(clients.map((client) => client.status)).toEqual(['connecting', 'connecting']);
      const health = app.get(RedisCacheHealthIndicator);
      await until(async () => {
        const [local, shared] = await Promise.all([health.isHealthy('local'), health.isHealthy('shared')]);
        return local['redis-local'].status === 'up' && shared['redis-shared'].status === 'up';
      }, 2000);
      expect(clients.map((client) => client.status)).toEqual(['ready', 'ready']);
      expect(app.get(EmbeddingCacheService).stats().fallbacks + app.get(MessageCacheService).stats().fallbacks).toBe(0);
      // it was told not to wait: a connection still connecting is no news
      expect(warn).not.toHaveBeenCalled();
      await app.close();
    } finally {
      warn.mockRestore();
    }
  });

  it('injects each connection under its token and with @InjectRedisCacheConnection', async () => {
    @Injectable()
    class Consumer {
      constructor(
        @InjectRedisCacheConnection('local') readonly local: Redis,
        @InjectRedisCacheConnection('shared') readonly shared: Redis,
      ) {}
    }
    @Module({ providers: [Consumer] })
    class FeatureModule {}

    const app = await boot([RedisCacheModule.forRoot({ ...options, isGlobal: true }), FeatureModule]);
    const consumer = app.get(Consumer);
    expect(consumer.local).toBe(connection(app, 'local'));
    expect(consumer.shared).toBe(connection(app, 'shared'));
    expect(await consumer.local.ping()).toBe('PONG');
    expect([consumer.local.options.port, consumer.shared.options.port]).toEqual([local.port, shared.port]);
    await app.close();
  });

  it("runs on the app's own clients from @liaoliaots/nestjs-redis, and leaves closing them to their owner", async () => {
    @Module({
      imports: [
        RedisModule.forRoot({
          config: [
            { namespace: 'ai', url: local.url, ...FAIL_FAST_REDIS_OPTIONS },
            { namespace: 'chat', url: shared.url, ...FAIL_FAST_REDIS_OPTIONS },
          ],
          closeClient: false,
        }),
      ],
    })
    class AppRedisModule {}
    const app = await boot([
      AppRedisModule,
      RedisCacheModule.forRootAsync({
        inject: [RedisService],
        useFactory: (redis: RedisService) => ({
          connections: { local: { client: redis.getOrThrow('ai') }, shared: { client: redis.getOrThrow('chat') } },
        }),
      }),
    ]);
    const redis = app.get(RedisService);
    const [ai, chat] = [redis.getOrThrow('ai'), redis.getOrThrow('chat')];
    expect(connection(app, 'local')).toBe(ai);
    expect(connection(app, 'shared')).toBe(chat);
    expect(await app.get(EmbeddingCacheService).cacheEmbedding('user-3', 'own', [3])).toBe(true);
    expect(await ai.hlen(embeddingKeys('user-3').vectors)).toBe(1);
    await app.close();
    expect([ai.status, chat.status]).toEqual(['ready', 'ready']);
    await Promise.all([ai.quit(), chat.quit()]);
    await ai.flushall().catch(() => undefined);
  });

  it('warns when the app gives a client with the offline queue on', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const queueing = createCacheRedis(local.url, { enableOfflineQueue: true });
    try {
      const app = await boot([
        RedisCacheModule.forRoot({ connections: { local: { client: queueing }, shared: { url: shared.url } } }),
      ]);
      expect(warn.mock.calls.map(([line]) => line)).toEqual([
        'Redis connection "local" was given with enableOfflineQueue on: a write that gave its fallback may still ' +
          'run later. Create the client with FAIL_FAST_REDIS_OPTIONS (FAIL_FAST_CLUSTER_OPTIONS).',
      ]);
      await app.close();
    } finally {
      warn.mockRestore();
      await queueing.quit();
    }
  });

  it('forRootAsync takes a factory with injected dependencies', async () => {
    const app = await boot([
      ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ LOCAL: local.url, SHARED: shared.url })] }),
      RedisCacheModule.forRootAsync({
        imports: [ConfigModule],
        inject: [ConfigService],
        useFactory: (config: ConfigService) => ({
          connections: { local: { url: config.getOrThrow('LOCAL') }, shared: { url: config.getOrThrow('SHARED') } },
          embeddings: { maxEntriesPerUser: 1 },
        }),
      }),
    ]);
    const embeddings = app.get(EmbeddingCacheService);
    expect(embeddings.options.maxEntriesPerUser).toBe(1);
    await embeddings.cacheEmbedding('user-2', 'first', [1]);
    await embeddings.cacheEmbedding('user-2', 'second', [2]);
    expect(await embeddings.getCachedEmbeddings('user-2', ['first', 'second'])).toEqual([null, [2]]);
    await connection(app, 'local').flushall();
    await app.close();
  });

  it('forRootAsync takes useClass and useExisting', async () => {
    @Injectable()
    class CacheConfig {
      create(): RedisCacheModuleOptions {
        return { ...options, messages: { maxCachedMessages: 7 } };
      }
    }
    @Module({ providers: [CacheConfig], exports: [CacheConfig] })
    class CacheConfigModule {}

    const viaClass = await boot([RedisCacheModule.forRootAsync({ useClass: CacheConfig })]);
    expect(viaClass.get(MessageCacheService).options.maxCachedMessages).toBe(7);
    await viaClass.close();

    const viaExisting = await boot([
      RedisCacheModule.forRootAsync({ imports: [CacheConfigModule], useExisting: CacheConfig }),
    ]);
    expect(viaExisting.get(MessageCacheService).options.maxCachedMessages).toBe(7);
    await viaExisting.close();
  });

  it('isGlobal makes the services injectable in modules that do not import it', async () => {
    @Injectable()
    class Consumer {
      constructor(
        readonly embeddings: EmbeddingCacheService,
        readonly messages: MessageCacheService,
        readonly health: RedisCacheHealthIndicator,
        @InjectRedisCacheConnection('shared') readonly redis: Redis,
      ) {}
    }
    @Module({ providers: [Consumer] })
    class FeatureModule {}

    const app = await boot([
      RedisCacheModule.forRootAsync({ isGlobal: true, useFactory: () => options }),
      FeatureModule,
    ]);
    const consumer = app.get(Consumer);
    expect(consumer.embeddings).toBe(app.get(EmbeddingCacheService));
    expect(consumer.messages).toBe(app.get(MessageCacheService));
    expect(consumer.health).toBe(app.get(RedisCacheHealthIndicator));
    expect(consumer.redis).toBe(connection(app, 'shared'));
    await app.close();
  });

  it('without isGlobal the services are not visible to modules that do not import it', async () => {
    @Injectable()
    class Consumer {
      constructor(readonly embeddings: EmbeddingCacheService) {}
    }
    @Module({ providers: [Consumer] })
    class FeatureModule {}

    // the failed compile leaves no app to close: the module's clients connect only at init, so none opened a socket
    const before = await clientCount(local);
    await expect(
      Test.createTestingModule({
        imports: [RedisCacheModule.forRootAsync({ useFactory: () => options }), FeatureModule],
      }).compile(),
    ).rejects.toThrow(/EmbeddingCacheService/);
    expect(await clientCount(local)).toBe(before);
  });

  it('reports both connections through the health indicator', async () => {
    const app = await boot([RedisCacheModule.forRoot(options)]);
    const health = app.get(RedisCacheHealthIndicator);
    const result = await health.isHealthy('local');
    expect(result['redis-local'].status).toBe('up');
    expect(result['redis-local'].state).toBe('ready');
    expect(typeof result['redis-local'].latencyMs).toBe('number');
    expect(await health.isHealthy('shared', 'messages')).toMatchObject({ messages: { status: 'up' } });
    await app.close();
  });

  it.each([
    [{ connections: { local: { url: 'http://x' }, shared: { url: 'redis://x' } } }, 'connections.local.url'],
    [{ connections: { local: { url: 'redis://x' } } }, 'connections.shared'],
    [{ connections: { local: {}, shared: {} }, embeddings: { maxEntriesPerUser: 0 } }, 'embeddings.maxEntriesPerUser'],
    [{ connections: { local: {}, shared: {} }, embeddings: { ttlSeconds: 1.5 } }, 'embeddings.ttlSeconds'],
    [{ connections: { local: {}, shared: {} }, embeddings: { namespace: 'a{b}' } }, 'embeddings.namespace'],
    [{ connections: { local: {}, shared: {} }, embeddings: { precision: 'bfloat16' } }, 'embeddings.precision'],
    [{ connections: { local: {}, shared: {} }, messages: { maxCachedMessages: -5 } }, 'messages.maxCachedMessages'],
    [{ connections: { local: {}, shared: {} }, messages: { ttlSeconds: '60' } }, 'messages.ttlSeconds'],
    [{ connections: { local: { client: {} }, shared: {} } }, 'connections.local.client'],
    [{ connections: { local: { client: createCacheRedis }, shared: {} } }, 'connections.local.client'],
    [{ connections: { local: { client: {}, url: 'redis://x' }, shared: {} } }, 'connections.local.url'],
    [{ connections: { local: {}, shared: { cluster: { nodes: [] }, client: {} } } }, 'connections.shared'],
    [{ connections: { local: {}, shared: {} }, readyTimeoutMs: -1 }, 'readyTimeoutMs'],
  ])('refuses to start with invalid options (%#: %s)', async (invalid, option) => {
    const start = boot([RedisCacheModule.forRootAsync({ useFactory: () => invalid as RedisCacheModuleOptions })]);
    await expect(start).rejects.toThrow(RedisCacheConfigError);
    await expect(
      boot([RedisCacheModule.forRootAsync({ useFactory: () => invalid as RedisCacheModuleOptions })]),
    ).rejects.toMatchObject({ option });
  });

  describe('with Redis unreachable', () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    beforeAll(() => process.on('unhandledRejection', record));
    afterAll(() => process.off('unhandledRejection', record));

    it('starts within the ready timeout, says so once per connection, then reads give null and writes give false, quickly', async () => {
      const gone = await RedisServer.start();
      const url = gone.url;
      await gone.stop();
      const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      const starting = performance.now();
      const app = await boot([RedisCacheModule.forRoot({ connections: { local: { url }, shared: { url } } })]);
      const startMs = performance.now() - starting;
      const startWarnings = warn.mock.calls.map(([line]) => String(line)).filter((line) => /not ready/.test(line));
      warn.mockRestore();
      expect(startMs).toBeGreaterThanOrEqual(1000);
      expect(startMs).toBeLessThanOrEqual(1500);
      expect(startWarnings).toEqual([
        expect.stringMatching(
          /^Redis connection "local" is not ready after 1000 ms \((reconnecting|connecting)\): starting without it/,
        ),
        expect.stringMatching(
          /^Redis connection "shared" is not ready after 1000 ms \((reconnecting|connecting)\): starting without it/,
        ),
      ]);
      const embeddings = app.get(EmbeddingCacheService);
      const messages = app.get(MessageCacheService);

      const started = performance.now();
      const results = await Promise.all([
        embeddings.getCachedEmbedding('u', 'text'),
        embeddings.cacheEmbedding('u', 'text', [1]),
        messages.getCachedMessages('c'),
        messages.appendMessages('c', [{ a: 1 }]),
        messages.cacheMessages('c', [{ a: 1 }]),
      ]);
      const elapsed = performance.now() - started;

      expect(results).toEqual([null, false, null, false, false]);
      expect(elapsed).toBeLessThan(500);
      expect(embeddings.stats().fallbacks).toBe(2);
      expect(messages.stats().fallbacks).toBe(3);
      const health = await app.get(RedisCacheHealthIndicator).isHealthy('local');
      expect(health['redis-local'].status).toBe('down');
      await app.close();
      expect(unhandled).toEqual([]);
    });
  });
});
