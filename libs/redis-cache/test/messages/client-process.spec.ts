import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { MessageCacheService, type CachedMessage, type MessageCacheStats } from '@wbot/redis-cache';
import { conversationKeys } from '../../src/keys';
import { connectedCacheRedis, inspector } from '../../../../test/support/redis-client';
import { RedisServer } from '../../../../test/support/redis-server';
import { ChildDriver, installBuiltPackage, type Reply } from '../support/child-process';

/**
 * The frontend side of the shared cache, for real: a separate Node process that
 * requires `@wbot/redis-cache/client` from the built package, against the
 * in-process Nest `MessageCacheService`, on one Redis.
 */
const FIXTURE = join(__dirname, 'fixtures', 'message-client-process.js');
const OPTIONS = { maxCachedMessages: 10 };
const LRU = conversationKeys('any', 0).lru;

/** Drives the child process, whose loaders may wait for a gate the test opens. */
class ChildCache {
  private readonly loaders = new Map<number, () => void>();
  private driver!: ChildDriver;

  static async start(dir: string, url: string): Promise<ChildCache> {
    const cache = new ChildCache();
    cache.driver = await ChildDriver.start(
      dir,
      'message-client-process.js',
      [url, JSON.stringify(OPTIONS)],
      (notice) => {
        if (notice.loading) cache.loaders.get(notice.id!)?.();
      },
    );
    return cache;
  }

  send(method: string, ...args: unknown[]): Promise<Reply> {
    return this.driver.send(method, ...args);
  }

  call<T>(method: string, ...args: unknown[]): Promise<T> {
    return this.driver.call<T>(method, ...args);
  }

  /** A getOrLoadMessages whose loader, in the child, waits for `open(gateName)`. */
  gatedLoad(conversationId: string, loaded: CachedMessage[], gateName: string) {
    const { id, reply } = this.driver.sendTracked('getOrLoadMessages', [conversationId, loaded, gateName]);
    const loading = new Promise<void>((resolve) => this.loaders.set(id, resolve));
    return { loading, result: reply.then((r) => r.result as CachedMessage[]) };
  }

  stop(): Promise<void> {
    return this.driver.stop();
  }
}

function messages(count: number, prefix: string): CachedMessage[] {
  return Array.from({ length: count }, (_, i) => ({ id: `${prefix}${i}`, text: `${prefix} ${i} ✓` }));
}

describe('the framework-free client in a separate Node process, beside the Nest service', () => {
  let dir: string;
  let server: RedisServer;
  let redis: Redis;
  let serviceConnection: Redis;
  let service: MessageCacheService;
  let child: ChildCache;

  beforeAll(async () => {
    dir = installBuiltPackage([FIXTURE]);
    server = await RedisServer.start();
    redis = await inspector(server.url);
  }, 60_000);

  afterAll(async () => {
    await redis.quit();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await redis.flushall();
    serviceConnection = await connectedCacheRedis(server.url);
    service = new MessageCacheService(serviceConnection, OPTIONS);
    child = await ChildCache.start(dir, server.url);
  });

  afterEach(async () => {
    await child.stop();
    await serviceConnection.quit();
  });

  it('loads the client from the built package and no Nest, reflect-metadata or rxjs module', async () => {
    expect(await child.call('resolvedClient')).toBe(
      join(dir, 'node_modules', '@wbot', 'redis-cache', 'dist', 'client', 'index.js'),
    );
    expect(await child.call('loadedFrameworkModules')).toEqual([]);
  });

  it('reads what the service wrote and the service reads what it appended, ids deduplicated across both', async () => {
    await service.cacheMessages('c1', messages(2, 's'));
    expect(await child.call('getCachedMessages', 'c1')).toEqual(messages(2, 's'));
    expect(await child.call('appendMessages', 'c1', messages(2, 'p'))).toBe(true);
    expect(await service.appendMessages('c1', [...messages(2, 'p'), ...messages(1, 'n')])).toBe(true);
    const all = [...messages(2, 's'), ...messages(2, 'p'), ...messages(1, 'n')];
    expect(await service.getCachedMessages('c1')).toEqual(all);
    expect(await child.call('getCachedMessages', 'c1', { last: 2 })).toEqual(all.slice(3));
    expect(await child.call('appendMessages', 'not-cached', messages(1, 'x'))).toBe(false);
    expect(await redis.exists(conversationKeys('not-cached', 0).messages)).toBe(0);
  });

  it('keeps every concurrent append from both processes, each in its sender order, filling the budget exactly', async () => {
    await service.cacheMessages('c1', []);
    const fromChild = messages(5, 'child');
    const fromService = messages(5, 'service');
    await Promise.all([
      ...fromChild.map((message) => child.call('appendMessages', 'c1', [message])),
      ...fromService.map((message) => service.appendMessages('c1', [message])),
    ]);
    const cached = (await service.getCachedMessages('c1'))!;
    expect(cached).toHaveLength(10);
    expect(cached.filter((message) => String(message.id).startsWith('child'))).toEqual(fromChild);
    expect(cached.filter((message) => String(message.id).startsWith('service'))).toEqual(fromService);
  });

  it('counts both against one budget: fills in-process evict the conversation the child filled', async () => {
    expect(await child.call('cacheMessages', 'from-child', messages(6, 'c'))).toBe(true);
    expect(await service.cacheMessages('from-service', messages(6, 's'))).toBe(true);
    expect(await child.call('getCachedMessages', 'from-child')).toBeNull();
    expect(await child.call('getCachedMessages', 'from-service')).toEqual(messages(6, 's'));
    expect(service.stats().evictions).toBe(1);
    expect(await redis.get(conversationKeys('any', 0).total)).toBe('6');
  });

  it('protects a conversation the child read exactly like an in-process read', async () => {
    await service.cacheMessages('a', messages(3, 'a'));
    await child.call('cacheMessages', 'b', messages(3, 'b'));
    await service.cacheMessages('c', messages(3, 'c'));
    expect(await child.call('getCachedMessages', 'a', { last: 1 })).toEqual(messages(3, 'a').slice(2));
    expect(await redis.zrange(LRU, 0, '-1')).toEqual(['b', 'c', 'a']);
    expect(await service.getCachedMessages('b')).toEqual(messages(3, 'b'));
    expect(await redis.zrange(LRU, 0, '-1')).toEqual(['c', 'a', 'b']);
    expect(await service.cacheMessages('d', messages(3, 'd'))).toBe(true);
    expect(await redis.zrange(LRU, 0, '-1')).toEqual(['a', 'b', 'd']);
    expect(await child.call('getCachedMessages', 'c')).toBeNull();
  });

  it("refuses the child's fill when the service appends during the child's load", async () => {
    const load = child.gatedLoad('c1', messages(4, 'db'), 'g1');
    await load.loading;
    expect(await service.appendMessages('c1', messages(1, 'new'))).toBe(false);
    await child.call('open', 'g1');
    expect(await load.result).toEqual(messages(4, 'db'));
    expect(await service.getCachedMessages('c1')).toBeNull();
    expect(await child.call<MessageCacheStats>('stats')).toMatchObject({ fills: 0, fillsRefused: 1 });
  });

  it("refuses the service's fill when the child clears the conversation during the service's load", async () => {
    let release!: () => void;
    let started!: () => void;
    const loading = new Promise<void>((resolve) => (started = resolve));
    const reading = service.getOrLoadMessages('c1', async () => {
      started();
      await new Promise<void>((resolve) => (release = resolve));
      return messages(4, 'db');
    });
    await loading;
    expect(await child.call('clearConversation', 'c1')).toBe(true);
    release();
    expect(await reading).toEqual(messages(4, 'db'));
    expect(await child.call('getCachedMessages', 'c1')).toBeNull();
    expect(service.stats()).toMatchObject({ fills: 0, fillsRefused: 1 });
  });

  it('fills once between the two processes when both miss, and both get the data', async () => {
    const load = child.gatedLoad('c1', messages(5, 'db'), 'g1');
    await load.loading;
    const inProcess = await service.getOrLoadMessages('c1', async () => messages(5, 'db'));
    await child.call('open', 'g1');
    expect(await load.result).toEqual(messages(5, 'db'));
    expect(inProcess).toEqual(messages(5, 'db'));
    const childStats = await child.call<MessageCacheStats>('stats');
    expect(childStats.fills + service.stats().fills).toBe(1);
    expect(await service.getCachedMessages('c1')).toEqual(messages(5, 'db'));
  });

  it('rejects bad input in the child with RedisCacheInputError naming the argument', async () => {
    expect((await child.send('getCachedMessages', '')).error).toMatchObject({
      name: 'RedisCacheInputError',
      argument: 'conversationId',
    });
    expect((await child.send('appendMessages', 'c1', [[]])).error).toMatchObject({
      name: 'RedisCacheInputError',
      argument: 'newMessages[0]',
    });
    expect((await child.send('getCachedMessages', 'c1', { last: 0 })).error).toMatchObject({
      name: 'RedisCacheInputError',
      argument: 'options.last',
    });
  });
});
