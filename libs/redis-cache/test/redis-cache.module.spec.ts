import { RedisService } from '@liaoliaots/nestjs-redis';
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import {
  EmbeddingCacheService,
  MessageCacheService,
  RedisCacheConfigError,
  RedisCacheHealthIndicator,
  RedisCacheModule,
  type RedisCacheModuleOptions,
} from '@wbot/redis-cache';
import { RedisServer } from '../../../test/support/redis-server';
import { waitUntilReady } from '../../../test/support/redis-client';

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

async function ready(app: INestApplicationContext, ...names: string[]): Promise<void> {
  const redis = app.get(RedisService);
  await Promise.all(names.map((name) => waitUntilReady(redis.getOrThrow(name))));
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
    await ready(app, 'local', 'shared');
    const embeddings = app.get(EmbeddingCacheService);
    const messages = app.get(MessageCacheService);

    expect(await embeddings.cacheEmbedding('user-1', 'hello', [1, 2, 3])).toBe(true);
    expect(await messages.cacheMessages('conversation-1', [{ role: 'user', content: 'hi' }])).toBe(true);

    const redis = app.get(RedisService);
    expect(await redis.getOrThrow('local').dbsize()).toBe(2);
    // the conversation's list and id set, and its bucket's LRU, sizes and total
    expect(await redis.getOrThrow('shared').dbsize()).toBe(5);
    expect(await redis.getOrThrow('local').keys('wbot:msg:*')).toEqual([]);
    expect(await redis.getOrThrow('shared').keys('wbot:emb:*')).toEqual([]);
    await redis.getOrThrow('local').flushall();
    await redis.getOrThrow('shared').flushall();
    await app.close();
  });

  it('closes both connections on shutdown', async () => {
    const app = await boot([RedisCacheModule.forRoot(options)]);
    await ready(app, 'local', 'shared');
    const redis = app.get(RedisService);
    const clients = [redis.getOrThrow('local'), redis.getOrThrow('shared')];
    const ended = clients.map((client) => new Promise((resolve) => client.once('end', resolve)));
    await app.close();
    await Promise.all(ended);
    expect(clients.map((client) => client.status)).toEqual(['end', 'end']);
  });

  it('names the connections as configured', async () => {
    const app = await boot([
      RedisCacheModule.forRoot({
        connections: { local: { url: local.url, namespace: 'ai' }, shared: { url: shared.url, namespace: 'frontend' } },
      }),
    ]);
    await ready(app, 'ai', 'frontend');
    const redis = app.get(RedisService);
    expect(await redis.getOrThrow('ai').ping()).toBe('PONG');
    expect(redis.getOrNil('local')).toBeNull();
    await app.close();
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
    await ready(app, 'local', 'shared');
    const embeddings = app.get(EmbeddingCacheService);
    expect(embeddings.options.maxEntriesPerUser).toBe(1);
    await embeddings.cacheEmbedding('user-2', 'first', [1]);
    await embeddings.cacheEmbedding('user-2', 'second', [2]);
    expect(await embeddings.getCachedEmbeddings('user-2', ['first', 'second'])).toEqual([null, [2]]);
    await app.get(RedisService).getOrThrow('local').flushall();
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
        readonly redis: RedisService,
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
    expect(consumer.redis.getOrThrow('shared')).toBe(app.get(RedisService).getOrThrow('shared'));
    await app.close();
  });

  it('without isGlobal the services are not visible to modules that do not import it', async () => {
    @Injectable()
    class Consumer {
      constructor(readonly embeddings: EmbeddingCacheService) {}
    }
    @Module({ providers: [Consumer] })
    class FeatureModule {}

    // lazyConnect: the failed compile leaves no app to close, so its clients must never open a socket
    const lazy: RedisCacheModuleOptions = {
      connections: { local: { url: local.url, lazyConnect: true }, shared: { url: shared.url, lazyConnect: true } },
    };
    await expect(
      Test.createTestingModule({
        imports: [RedisCacheModule.forRootAsync({ useFactory: () => lazy }), FeatureModule],
      }).compile(),
    ).rejects.toThrow(/EmbeddingCacheService/);
  });

  it('reports both connections through the health indicator', async () => {
    const app = await boot([RedisCacheModule.forRoot(options)]);
    await ready(app, 'local', 'shared');
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
    [{ connections: { local: {}, shared: {} }, embeddings: { precision: 'float16' } }, 'embeddings.precision'],
    [{ connections: { local: {}, shared: {} }, messages: { maxCachedMessages: -5 } }, 'messages.maxCachedMessages'],
    [{ connections: { local: {}, shared: {} }, messages: { ttlSeconds: '60' } }, 'messages.ttlSeconds'],
    [{ connections: { local: { namespace: 'same' }, shared: { namespace: 'same' } } }, 'connections.shared.namespace'],
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

    it('starts, then reads give null and writes give false, quickly', async () => {
      const gone = await RedisServer.start();
      const url = gone.url;
      await gone.stop();
      const app = await boot([RedisCacheModule.forRoot({ connections: { local: { url }, shared: { url } } })]);
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
