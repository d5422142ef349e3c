import type { Redis } from 'ioredis';
import { EmbeddingCacheService, MessageCacheClient, type CachedMessage } from '@wbot/redis-cache';
import { conversationKeys, embeddingField, embeddingKeys } from '../../src/keys';
import { connectedCacheRedis, inspector } from '../../../../test/support/redis-client';
import { RedisServer } from '../../../../test/support/redis-server';
import { embeddingStats, messageStats } from '../../../../test/support/cache-stats';
import { until } from '../../../../test/support/until';

/**
 * What Redis's own maxmemory eviction can do to the cache: remove any one key,
 * bookkeeping included, between two scripts. Each test deletes the key eviction
 * would, at the worst moment, and shows the next scripts repair the bookkeeping
 * and keep the per-user limit and the message budget exact.
 */
let server: RedisServer;
let client: Redis;
let inspect: Redis;

beforeAll(async () => {
  server = await RedisServer.start();
  client = await connectedCacheRedis(server.url);
  inspect = await inspector(server.url);
});

afterAll(async () => {
  client.disconnect();
  inspect.disconnect();
  await server.stop();
});

beforeEach(async () => {
  await inspect.flushall();
});

describe('the embedding cache after eviction took one of a user’s keys', () => {
  const keys = embeddingKeys('u');
  const field = (text: string) => embeddingField('default', 'float32', text);
  const fields = (texts: string[]) => texts.map(field);

  async function stored(): Promise<{ vectors: string[]; lru: string[] }> {
    const [vectors, lru] = await Promise.all([inspect.hkeys(keys.vectors), inspect.zrange(keys.lru, 0, '-1')]);
    return { vectors: vectors.sort(), lru };
  }

  async function filled(): Promise<EmbeddingCacheService> {
    const embeddings = new EmbeddingCacheService(client, { maxEntriesPerUser: 3 });
    await embeddings.cacheEmbeddings(
      'u',
      ['a', 'b', 'c'].map((text, i) => ({ text, embedding: [i] })),
    );
    return embeddings;
  }

  it('lost the vectors HASH: reads miss and drop their index records, and a write leaves exactly the limit', async () => {
    const embeddings = await filled();
    await inspect.del(keys.vectors);
    expect(await embeddings.getCachedEmbedding('u', 'a')).toBeNull();
    expect(await inspect.zrange(keys.lru, 0, '-1')).toEqual(fields(['b', 'c']));

    const batch = ['d', 'e', 'f', 'g'].map((text, i) => ({ text, embedding: [10 + i] }));
    expect(await embeddings.cacheEmbeddings('u', batch)).toBe(true);
    expect(await stored()).toEqual({ vectors: fields(['e', 'f', 'g']).sort(), lru: fields(['e', 'f', 'g']) });
    expect(embeddings.stats()).toEqual(embeddingStats({ hits: 0, misses: 1, writes: 7, evictions: 1, fallbacks: 0 }));
  });

  it('lost the LRU ZSET: hits are indexed again, a write drops the vectors left unindexed, and the limit holds', async () => {
    const embeddings = await filled();
    await inspect.del(keys.lru);
    expect(await embeddings.getCachedEmbedding('u', 'a')).toEqual([0]);
    expect(await inspect.zrange(keys.lru, 0, '-1')).toEqual(fields(['a']));

    expect(await embeddings.cacheEmbedding('u', 'd', [3])).toBe(true);
    expect(await stored()).toEqual({ vectors: fields(['a', 'd']).sort(), lru: fields(['a', 'd']) });
    await embeddings.cacheEmbeddings('u', [
      { text: 'e', embedding: [4] },
      { text: 'f', embedding: [5] },
    ]);
    expect(await stored()).toEqual({ vectors: fields(['d', 'e', 'f']).sort(), lru: fields(['d', 'e', 'f']) });
    for (const key of [keys.vectors, keys.lru]) expect(await inspect.pttl(key)).toBeGreaterThan(0);
  });
});

describe('the message budget after eviction took one bookkeeping key', () => {
  const bucket = conversationKeys('any', 0);
  const keysOf = (conversationId: string) => conversationKeys(conversationId, 0);

  function messages(count: number, prefix: string): CachedMessage[] {
    return Array.from({ length: count }, (_, i) => ({ id: `${prefix}${i}` }));
  }

  /** The three counts of the budget, which must agree: messages listed, the total, and the sum of the sizes. */
  async function budgetCounts(): Promise<{ listed: number; total: number; sizes: number }> {
    let listed = 0;
    for (const key of await inspect.keys(`${bucket.messagesPrefix}*`)) listed += (await inspect.llen(key)) - 1;
    const total = Number((await inspect.get(bucket.total)) ?? 0);
    const sizes = (await inspect.hvals(bucket.sizes)).reduce((sum, size) => sum + Number(size), 0);
    return { listed, total, sizes };
  }

  async function cached(): Promise<string[]> {
    return (await inspect.keys(`${bucket.messagesPrefix}*`))
      .map((key) => key.slice(bucket.messagesPrefix.length))
      .sort();
  }

  /** Conversations a and b, 40 messages each, in a budget of 100. */
  async function filled(): Promise<MessageCacheClient> {
    const cache = new MessageCacheClient(client, { maxCachedMessages: 100 });
    await cache.cacheMessages('a', messages(40, 'a'));
    await cache.cacheMessages('b', messages(40, 'b'));
    return cache;
  }

  it('lost the total: it is rebuilt from the sizes, and the least recently used conversation makes room', async () => {
    const cache = await filled();
    await inspect.del(bucket.total);
    expect(await cache.cacheMessages('c', messages(40, 'c'))).toBe(true);
    expect(await cached()).toEqual(['b', 'c']);
    expect(await budgetCounts()).toEqual({ listed: 80, total: 80, sizes: 80 });
    expect(cache.stats().evictions).toBe(1);
    expect(await inspect.pttl(bucket.total)).toBeGreaterThan(0);
  });

  it('lost the sizes: they are rebuilt from the lists, and the least recently used conversation makes room', async () => {
    const cache = await filled();
    await inspect.del(bucket.sizes);
    expect(await cache.cacheMessages('c', messages(40, 'c'))).toBe(true);
    expect(await cached()).toEqual(['b', 'c']);
    expect(await budgetCounts()).toEqual({ listed: 80, total: 80, sizes: 80 });
    expect(cache.stats().evictions).toBe(1);
  });

  it('lost the sizes and the total together: both are rebuilt from the lists, so the budget still holds', async () => {
    const cache = await filled();
    await inspect.del(bucket.sizes, bucket.total);
    expect(await cache.cacheMessages('c', messages(40, 'c'))).toBe(true);
    expect(await cached()).toEqual(['b', 'c']);
    expect(await budgetCounts()).toEqual({ listed: 80, total: 80, sizes: 80 });
    expect(await inspect.hgetall(bucket.sizes)).toEqual({ b: '40', c: '40' });
    expect(cache.stats().evictions).toBe(1);
    for (const key of [bucket.sizes, bucket.total]) expect(await inspect.pttl(key)).toBeGreaterThan(0);
  });

  it('rebuilt sizes keep an empty conversation at 0 and drop the LRU record of a list that is gone', async () => {
    const cache = new MessageCacheClient(client, { maxCachedMessages: 100 });
    await cache.cacheMessages('empty', []);
    await cache.cacheMessages('a', messages(40, 'a'));
    await cache.cacheMessages('gone', messages(10, 'g'));
    await inspect.del(bucket.sizes, bucket.total, keysOf('gone').messages);
    expect(await cache.getCachedMessages('empty')).toEqual([]);
    expect(await inspect.hgetall(bucket.sizes)).toEqual({ empty: '0', a: '40' });
    expect(await inspect.zrange(bucket.lru, 0, '-1')).toEqual(['a', 'empty']);
    expect(await budgetCounts()).toEqual({ listed: 40, total: 40, sizes: 40 });
  });

  it('lost the LRU and the sizes together: their lists are orphans, never served, and the budget counts what it names', async () => {
    const cache = await filled();
    await inspect.del(bucket.lru, bucket.sizes);
    expect(await cache.getCachedMessages('a', { last: 1 })).toBeNull();
    expect(await cached()).toEqual(['b']);
    // no script can name b any more: its 40 messages are outside the budget until it is touched or expires
    expect(await cache.cacheMessages('c', messages(70, 'c'))).toBe(true);
    expect(await budgetCounts()).toEqual({ listed: 110, total: 70, sizes: 70 });
    expect(await cache.appendMessages('b', messages(1, 'x'))).toBe(false);
    expect(await cached()).toEqual(['c']);
    expect(await budgetCounts()).toEqual({ listed: 70, total: 70, sizes: 70 });
    expect(cache.stats()).toEqual(messageStats({ misses: 1, fills: 3, dropped: 2 }));
    for (const key of [bucket.lru, bucket.sizes, bucket.total]) expect(await inspect.pttl(key)).toBeGreaterThan(0);
  });

  it('lost the LRU, the sizes and the total together: the same, from a budget of 0', async () => {
    const cache = await filled();
    await inspect.del(bucket.lru, bucket.sizes, bucket.total);
    expect(await cache.getCachedMessages('b')).toBeNull();
    expect(await cache.cacheMessages('c', messages(70, 'c'))).toBe(true);
    expect(await budgetCounts()).toEqual({ listed: 110, total: 70, sizes: 70 });
    expect(await cache.getCachedMessages('a')).toBeNull();
    expect(await budgetCounts()).toEqual({ listed: 70, total: 70, sizes: 70 });
    expect(cache.stats()).toEqual(messageStats({ misses: 2, fills: 3, dropped: 2 }));
  });

  it('lost the LRU and the sizes of a bucket that keeps deadlines: both are rebuilt from the deadlines', async () => {
    const cache = await filled();
    expect(await cache.cacheMessages('own', messages(10, 'o'), { ttlSeconds: 7200 })).toBe(true);
    await inspect.del(bucket.lru, bucket.sizes);
    expect(await cache.getCachedMessages('a', { last: 1 })).toEqual([{ id: 'a39' }]);
    expect(await inspect.hgetall(bucket.sizes)).toEqual({ a: '40', b: '40', own: '10' });
    // found in the order of their deadlines, as older than anything used after; the read then makes a the most recent
    expect(await inspect.zrange(bucket.lru, 0, '-1')).toEqual(['own', 'b', 'a']);
    expect(await budgetCounts()).toEqual({ listed: 90, total: 90, sizes: 90 });
    expect(cache.stats()).toEqual(messageStats({ hits: 1, fills: 3 }));
  });

  it('an orphan never touched expires within the TTL it had at the loss: no script extends it', async () => {
    const cache = new MessageCacheClient(client, { maxCachedMessages: 100, ttlSeconds: 1 });
    await cache.cacheMessages('a', messages(40, 'a'));
    await cache.cacheMessages('b', messages(40, 'b'));
    await inspect.del(bucket.lru, bucket.sizes, bucket.total);
    const orphans = [keysOf('a').messages, keysOf('a').ids, keysOf('b').messages, keysOf('b').ids];
    const expiring = await Promise.all(orphans.map((key) => inspect.call('PEXPIRETIME', key)));
    // the bucket stays in use, each script refreshing its own TTLs, until the orphans are gone
    let filled = 0;
    await until(
      async () => {
        expect(await cache.cacheMessages(`c${filled++ % 2}`, messages(30, 'c'))).toBe(true);
        const now = await Promise.all(orphans.map((key) => inspect.call('PEXPIRETIME', key)));
        expect(now.map((at, i) => (at === -2 ? expiring[i] : at))).toEqual(expiring);
        return now.every((at) => at === -2);
      },
      3000,
      50,
    );
    expect(await cached()).toEqual(['c0', 'c1']);
    expect(await budgetCounts()).toEqual({ listed: 60, total: 60, sizes: 60 });
  });

  it('lost the LRU, then a write first: the append keeps the whole history and evicts the other conversation', async () => {
    const cache = await filled();
    await inspect.del(bucket.lru);
    expect(await cache.appendMessages('a', messages(30, 'x'))).toBe(true);
    expect(await cache.getCachedMessages('a')).toEqual([...messages(40, 'a'), ...messages(30, 'x')]);
    expect(await cached()).toEqual(['a']);
    expect(await budgetCounts()).toEqual({ listed: 70, total: 70, sizes: 70 });
    expect(await inspect.zrange(bucket.lru, 0, '-1')).toEqual(['a']);
    expect(cache.stats()).toEqual(messageStats({ hits: 1, fills: 2, appends: 1, evictions: 1 }));
  });

  it('lost the LRU: it is rebuilt from the sizes, and the least recently used conversation makes room', async () => {
    const cache = await filled();
    await inspect.del(bucket.lru);
    expect(await cache.cacheMessages('c', messages(40, 'c'))).toBe(true);
    expect(await cached()).toEqual(['b', 'c']);
    expect(await budgetCounts()).toEqual({ listed: 80, total: 80, sizes: 80 });
    expect(await inspect.zrange(bucket.lru, 0, '-1')).toEqual(['b', 'c']);
    expect(cache.stats()).toEqual(messageStats({ fills: 3, evictions: 1 }));
  });

  it('lost a conversation’s list: a read misses and takes its count out of the budget', async () => {
    const cache = await filled();
    await inspect.del(keysOf('a').messages);
    expect(await cache.getCachedMessages('a')).toBeNull();
    expect(await budgetCounts()).toEqual({ listed: 40, total: 40, sizes: 40 });
    expect(await inspect.exists(keysOf('a').ids)).toBe(0);
    expect(await inspect.zrange(bucket.lru, 0, '-1')).toEqual(['b']);
    expect(await cache.cacheMessages('c', messages(60, 'c'))).toBe(true);
    expect(cache.stats().evictions).toBe(0);
  });

  it('lost a conversation’s id set: an append drops the conversation rather than risk a duplicate, and a fill restores it', async () => {
    const cache = await filled();
    await inspect.del(keysOf('a').ids);
    expect(await cache.appendMessages('a', [{ id: 'a39' }])).toBe(false);
    expect(await cache.getCachedMessages('a')).toBeNull();
    expect(await budgetCounts()).toEqual({ listed: 40, total: 40, sizes: 40 });
    expect(await inspect.zrange(bucket.lru, 0, '-1')).toEqual(['b']);

    expect(await cache.cacheMessages('a', messages(40, 'a'))).toBe(true);
    expect(await cache.appendMessages('a', [{ id: 'a39' }, { id: 'a40' }])).toBe(true);
    expect(await cache.getCachedMessages('a', { last: 2 })).toEqual([{ id: 'a39' }, { id: 'a40' }]);
    expect(await budgetCounts()).toEqual({ listed: 81, total: 81, sizes: 81 });
  });

  it('keeps the id set of a conversation whose messages have no ids, so its loss shows too', async () => {
    const cache = new MessageCacheClient(client, { maxCachedMessages: 100 });
    await cache.cacheMessages('plain', [{ content: 'no id' }]);
    expect(await inspect.smembers(keysOf('plain').ids)).toEqual(['']);
    expect(await inspect.pttl(keysOf('plain').ids)).toBeGreaterThan(0);
    expect(await cache.appendMessages('plain', [{ content: 'another' }])).toBe(true);
    await inspect.del(keysOf('plain').ids);
    expect(await cache.appendMessages('plain', [{ content: 'a third' }])).toBe(false);
    expect(await cache.getCachedMessages('plain')).toBeNull();
  });

  it('lost a fill lease: the fill is refused rather than risk a stale one, and the reader still gets its data', async () => {
    const cache = new MessageCacheClient(client, { maxCachedMessages: 100 });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const loading = new Promise<void>((resolve) => (started = resolve));
    const reading = cache.getOrLoadMessages('a', async () => {
      started();
      await released;
      return messages(5, 'a');
    });
    await loading;
    await inspect.del(keysOf('a').lease);
    release();
    expect(await reading).toEqual(messages(5, 'a'));
    expect(await cache.getCachedMessages('a')).toBeNull();
    expect(cache.stats()).toMatchObject({ fills: 0, fillsRefused: 1 });
    expect(await budgetCounts()).toEqual({ listed: 0, total: 0, sizes: 0 });
  });
});
