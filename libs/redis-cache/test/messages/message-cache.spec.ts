import type { Cluster, Redis } from 'ioredis';
import {
  MessageCacheClient,
  MessageCacheService,
  RedisCacheInputError,
  type CachedMessage,
  type MessageCacheOptions,
} from '@wbot/redis-cache';
import { conversationKeys } from '../../src/keys';
import { connectedCacheRedis, waitUntilReady } from '../../../../test/support/redis-client';
import { RedisServer } from '../../../../test/support/redis-server';
import { until } from '../../../../test/support/until';
import { TOPOLOGIES, startTopology, type Topology } from '../support/topology';
import { messageStats } from '../../../../test/support/cache-stats';

/** Every conversation of these tests is in bucket 0 (one bucket, the default). */
const BUCKET = conversationKeys('any', 0);
const keysOf = (conversationId: string) => conversationKeys(conversationId, 0);

function messages(count: number, prefix = 'm'): CachedMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}${i}`,
    role: 'user',
    content: `${prefix} text ${i}`,
  }));
}

/** A promise that settles only when the test says so, to force an interleaving. */
function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

/** A loader that reports when it starts and returns `result` once `release` opens. */
function gatedLoader(result: CachedMessage[], release: Promise<void>) {
  const started = gate();
  const loader = jest.fn(async () => {
    started.open();
    await release;
    return result;
  });
  return { loader, started: started.opened };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function expectInputError(call: Promise<unknown>, argument: string): Promise<void> {
  const error: unknown = await call.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(RedisCacheInputError);
  expect((error as RedisCacheInputError).argument).toBe(argument);
}

describe.each(TOPOLOGIES)('MessageCacheClient on %s', (name) => {
  let topology: Topology;
  let redis: Redis | Cluster;
  const opened: (Redis | Cluster)[] = [];
  const warnings: string[] = [];

  /** A client on its own connection, as a separate process would have. */
  async function newClient(options: MessageCacheOptions = {}, timeoutMs?: number): Promise<MessageCacheClient> {
    const connection = await topology.connect(timeoutMs ? { commandTimeout: timeoutMs } : undefined);
    opened.push(connection);
    return new MessageCacheClient(connection, options, {
      logger: { warn: (line) => warnings.push(line) },
      deadlineMs: timeoutMs,
    });
  }

  async function conversationListKeys(): Promise<string[]> {
    return topology.keys(`${BUCKET.messagesPrefix}*`);
  }

  /** The three counts of the budget, which must always agree. */
  async function budgetCounts(): Promise<{ listed: number; total: number; sizes: number }> {
    let listed = 0;
    for (const key of await conversationListKeys()) listed += (await redis.llen(key)) - 1;
    const total = Number((await redis.get(BUCKET.total)) ?? 0);
    const sizes = (await redis.hvals(BUCKET.sizes)).reduce((sum, size) => sum + Number(size), 0);
    return { listed, total, sizes };
  }

  async function cachedConversations(): Promise<string[]> {
    return (await conversationListKeys()).map((key) => key.slice(BUCKET.messagesPrefix.length)).sort();
  }

  /** An empty bucket holds no key: a script that finds neither its LRU nor its sizes knows of no list. */
  async function expectEmptyBucket(): Promise<void> {
    expect(await topology.keys('*')).toEqual([]);
  }

  async function lruOrder(): Promise<string[]> {
    return redis.zrange(BUCKET.lru, 0, '-1');
  }

  beforeAll(async () => {
    topology = await startTopology(name);
    redis = topology.inspect;
  }, 30_000); // a cluster forms in about 2 s alone, far slower on a loaded machine

  afterAll(async () => {
    await topology.stop();
  });

  beforeEach(async () => {
    await topology.flushall();
    warnings.length = 0;
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((connection) => connection.quit().catch(() => undefined)));
  });

  describe('reads and writes', () => {
    it('appendMessages on a conversation that is not cached returns false and creates no key', async () => {
      const cache = await newClient();
      expect(await cache.appendMessages('c1', messages(3))).toBe(false);
      await expectEmptyBucket();
      expect(cache.stats().appends).toBe(0);
    });

    it('reads a conversation cached empty as [] and an uncached one as null', async () => {
      const cache = await newClient();
      expect(await cache.cacheMessages('empty', [])).toBe(true);
      expect(await cache.getCachedMessages('empty')).toEqual([]);
      expect(await cache.getCachedMessages('never-cached')).toBeNull();
      expect(await budgetCounts()).toEqual({ listed: 0, total: 0, sizes: 0 });
    });

    it('reads messages back deep-equal: nested objects, unicode, numbers', async () => {
      const cache = await newClient();
      const stored: CachedMessage[] = [
        {
          id: 1,
          role: 'assistant',
          content: 'Grüße, 世界 👋 "quoted" \\ back\nslash \u0000 nul \ud800 lone',
          meta: { tokens: 12, score: 0.1, tiny: 1e-7, huge: 1e300, max: Number.MAX_SAFE_INTEGER, neg: -42 },
          parts: [{ type: 'text', text: 'a' }, [1, [2, [3]]], null, true, false, ''],
          'ключ 🔑': { '': 'empty key' },
        },
        { id: 'two', nothing: null, list: [] },
      ];
      expect(await cache.cacheMessages('deep', stored)).toBe(true);
      expect(await cache.appendMessages('deep', [{ id: 3, emoji: '🧪', nested: { a: { b: { c: [0.5] } } } }])).toBe(
        true,
      );
      expect(await cache.getCachedMessages('deep')).toEqual([
        ...stored,
        { id: 3, emoji: '🧪', nested: { a: { b: { c: [0.5] } } } },
      ]);
    });

    it('cacheMessages replaces a cached conversation and its counts', async () => {
      const cache = await newClient();
      await cache.cacheMessages('c1', messages(5, 'old'));
      expect(await cache.cacheMessages('c1', messages(2, 'new'))).toBe(true);
      expect(await cache.getCachedMessages('c1')).toEqual(messages(2, 'new'));
      expect(await budgetCounts()).toEqual({ listed: 2, total: 2, sizes: 2 });
      // the ids of the new messages only, and the empty marker that shows the SET exists
      expect((await redis.smembers(keysOf('c1').ids)).sort()).toEqual(['', '"new0"', '"new1"']);
    });

    it('returns the last N messages with options.last', async () => {
      const cache = await newClient();
      await cache.cacheMessages('c1', messages(5));
      await cache.cacheMessages('empty', []);
      expect(await cache.getCachedMessages('c1', { last: 1 })).toEqual(messages(5).slice(4));
      expect(await cache.getCachedMessages('c1', { last: 3 })).toEqual(messages(5).slice(2));
      expect(await cache.getCachedMessages('c1', { last: 50 })).toEqual(messages(5));
      expect(await cache.getCachedMessages('empty', { last: 3 })).toEqual([]);
      expect(await cache.getCachedMessages('missing', { last: 3 })).toBeNull();
    });

    it('clearConversation removes the conversation and its bookkeeping and returns true', async () => {
      const cache = await newClient();
      await cache.cacheMessages('keep', messages(4, 'k'));
      await cache.cacheMessages('gone', messages(6, 'g'));
      expect(await cache.clearConversation('gone')).toBe(true);
      expect(await cache.getCachedMessages('gone')).toBeNull();
      expect(await redis.exists(keysOf('gone').messages, keysOf('gone').ids, keysOf('gone').lease)).toBe(0);
      expect(await redis.hget(BUCKET.sizes, 'gone')).toBeNull();
      expect(await redis.zscore(BUCKET.lru, 'gone')).toBeNull();
      expect(await budgetCounts()).toEqual({ listed: 4, total: 4, sizes: 4 });
      expect(await cache.clearConversation('never-cached')).toBe(true);
      expect(await cache.getCachedMessages('keep')).toEqual(messages(4, 'k'));
    });
  });

  describe('idempotent appends', () => {
    it('skips messages whose id is cached, so a retried append adds nothing', async () => {
      const cache = await newClient();
      await cache.cacheMessages('c1', [{ id: 'a', text: 'from the fill' }]);
      const batch = [{ id: 'b', text: 'b' }, { text: 'no id' }];
      expect(await cache.appendMessages('c1', batch)).toBe(true);
      expect(await cache.appendMessages('c1', [{ id: 'b', text: 'b' }])).toBe(true);
      expect(await cache.appendMessages('c1', [{ id: 'a', text: 'retry of a filled one' }])).toBe(true);
      expect(await cache.getCachedMessages('c1')).toEqual([{ id: 'a', text: 'from the fill' }, ...batch]);
      expect(await budgetCounts()).toEqual({ listed: 3, total: 3, sizes: 3 });
    });

    it('treats ids 1 and "1" as distinct', async () => {
      const cache = await newClient();
      await cache.cacheMessages('c1', []);
      expect(await cache.appendMessages('c1', [{ id: 1, n: 'number' }])).toBe(true);
      expect(await cache.appendMessages('c1', [{ id: '1', n: 'string' }])).toBe(true);
      expect(await cache.appendMessages('c1', [{ id: 1, n: 'number again' }])).toBe(true);
      expect(await cache.getCachedMessages('c1')).toEqual([
        { id: 1, n: 'number' },
        { id: '1', n: 'string' },
      ]);
    });

    it('skips duplicate ids inside one call and appends messages without id every time', async () => {
      const cache = await newClient();
      await cache.cacheMessages('c1', []);
      const call = [{ id: 'x', v: 1 }, { id: 'x', v: 2 }, { v: 3 }, { v: 3 }, { id: 'y', v: 4 }];
      expect(await cache.appendMessages('c1', call)).toBe(true);
      expect(await cache.getCachedMessages('c1')).toEqual([{ id: 'x', v: 1 }, { v: 3 }, { v: 3 }, { id: 'y', v: 4 }]);
      expect(await budgetCounts()).toEqual({ listed: 4, total: 4, sizes: 4 });
    });
  });

  describe('write-through leases', () => {
    it('fills on a miss with no interfering write, and the next call is a hit that skips the loader', async () => {
      const cache = await newClient();
      const loader = jest.fn(async () => messages(4));
      expect(await cache.getOrLoadMessages('c1', loader)).toEqual(messages(4));
      expect(await cache.getOrLoadMessages('c1', loader)).toEqual(messages(4));
      expect(loader).toHaveBeenCalledTimes(1);
      expect(await redis.exists(keysOf('c1').lease)).toBe(0);
      expect(cache.stats()).toEqual(messageStats({ hits: 1, misses: 1, fills: 1 }));
    });

    it('refuses a fill loaded before an append: the cache stays empty and the reader still gets its messages', async () => {
      const reader = await newClient();
      const writer = await newClient();
      const release = gate();
      const { loader, started } = gatedLoader(messages(5), release.opened);
      const reading = reader.getOrLoadMessages('c1', loader);
      await started;
      expect(await redis.exists(keysOf('c1').lease)).toBe(1);
      expect(await writer.appendMessages('c1', [{ id: 'written-during-the-load' }])).toBe(false);
      release.open();
      expect(await reading).toEqual(messages(5));
      expect(await reader.getCachedMessages('c1')).toBeNull();
      expect(reader.stats().fillsRefused).toBe(1);
      expect(reader.stats().fills).toBe(0);
      await expectEmptyBucket();
    });

    it('refuses a fill loaded before a clearConversation', async () => {
      const reader = await newClient();
      const writer = await newClient();
      const release = gate();
      const { loader, started } = gatedLoader(messages(5), release.opened);
      const reading = reader.getOrLoadMessages('c1', loader);
      await started;
      expect(await writer.clearConversation('c1')).toBe(true);
      release.open();
      expect(await reading).toEqual(messages(5));
      expect(await reader.getCachedMessages('c1')).toBeNull();
      expect(reader.stats().fillsRefused).toBe(1);
      await expectEmptyBucket();
    });

    it('refuses a fill loaded before an unconditional cacheMessages, which stays cached', async () => {
      const reader = await newClient();
      const writer = await newClient();
      const release = gate();
      const { loader, started } = gatedLoader(messages(5, 'stale'), release.opened);
      const reading = reader.getOrLoadMessages('c1', loader);
      await started;
      expect(await writer.cacheMessages('c1', messages(6, 'fresh'))).toBe(true);
      release.open();
      expect(await reading).toEqual(messages(5, 'stale'));
      expect(await reader.getCachedMessages('c1')).toEqual(messages(6, 'fresh'));
      expect(reader.stats().fillsRefused).toBe(1);
    });

    it('does not let a call that follows a write join a load begun before that write', async () => {
      const cache = await newClient();
      const release = gate();
      const { loader: staleLoader, started } = gatedLoader(messages(5), release.opened);
      const staleRead = cache.getOrLoadMessages('c1', staleLoader);
      await started;
      expect(await cache.appendMessages('c1', [{ id: 'm5', role: 'user', content: 'm text 5' }])).toBe(false);
      const freshLoader = jest.fn(async () => messages(6));
      expect(await cache.getOrLoadMessages('c1', freshLoader)).toEqual(messages(6));
      expect(freshLoader).toHaveBeenCalledTimes(1);
      release.open();
      expect(await staleRead).toEqual(messages(5));
      expect(await cache.getCachedMessages('c1')).toEqual(messages(6));
      expect(cache.stats().fills).toBe(1);
      expect(cache.stats().fillsRefused).toBe(1);
    });

    it('runs the loader once for 10 concurrent misses in one process, and every caller gets the data', async () => {
      const cache = await newClient();
      const release = gate();
      const { loader, started } = gatedLoader(messages(3), release.opened);
      const calls = Array.from({ length: 10 }, () => cache.getOrLoadMessages('c1', loader));
      await started;
      release.open();
      const results = await Promise.all(calls);
      expect(results).toEqual(Array.from({ length: 10 }, () => messages(3)));
      expect(loader).toHaveBeenCalledTimes(1);
      expect(cache.stats()).toMatchObject({ misses: 10, hits: 0, fills: 1, fillsRefused: 0 });
      expect(await cache.getCachedMessages('c1')).toEqual(messages(3));
    });

    it('fills at most once across two clients on separate connections, and every caller gets the data', async () => {
      const first = await newClient();
      const second = await newClient();
      const release = gate();
      const a = gatedLoader(messages(7), release.opened);
      const b = gatedLoader(messages(7), release.opened);
      const calls = [
        ...Array.from({ length: 5 }, () => first.getOrLoadMessages('c1', a.loader)),
        ...Array.from({ length: 5 }, () => second.getOrLoadMessages('c1', b.loader)),
      ];
      await Promise.all([a.started, b.started]);
      release.open();
      expect(await Promise.all(calls)).toEqual(Array.from({ length: 10 }, () => messages(7)));
      expect(a.loader).toHaveBeenCalledTimes(1);
      expect(b.loader).toHaveBeenCalledTimes(1);
      expect(first.stats().fills + second.stats().fills).toBe(1);
      expect(first.stats().fillsRefused + second.stats().fillsRefused).toBe(0);
      expect(await first.getCachedMessages('c1')).toEqual(messages(7));
      expect(await budgetCounts()).toEqual({ listed: 7, total: 7, sizes: 7 });
    });

    it('returns but does not cache a loaded conversation with a message over maxMessageBytes', async () => {
      const cache = await newClient({ maxMessageBytes: 100 });
      const loaded = [{ id: 'big', content: 'x'.repeat(200) }];
      const loader = jest.fn(async () => loaded);
      expect(await cache.getOrLoadMessages('c1', loader)).toEqual(loaded);
      expect(await cache.getCachedMessages('c1')).toBeNull();
      expect(cache.stats().fills).toBe(0);
    });

    it('returns but does not cache a loaded conversation with more messages than maxMessagesPerCall', async () => {
      const cache = await newClient({ maxMessagesPerCall: 3 });
      const loader = jest.fn(async () => messages(4));
      expect(await cache.getOrLoadMessages('c1', loader)).toEqual(messages(4));
      expect(await cache.getCachedMessages('c1')).toBeNull();
      expect(cache.stats().fills).toBe(0);
    });

    it('rejects with the loader error and caches nothing when the loader fails', async () => {
      const cache = await newClient();
      const failure = new Error('database down');
      await expect(cache.getOrLoadMessages('c1', async () => Promise.reject(failure))).rejects.toBe(failure);
      expect(await cache.getCachedMessages('c1')).toBeNull();
      expect(await cache.getOrLoadMessages('c1', async () => messages(2))).toEqual(messages(2));
    });
  });

  describe('concurrent appends', () => {
    it('keeps all 50 concurrent single-message appends from five connections, each in its sender order', async () => {
      const clients = await Promise.all(Array.from({ length: 5 }, () => newClient()));
      await clients[0].cacheMessages('c1', []);
      const sent = clients.map((_, c) => messages(10, `client${c}-`));
      const results = await Promise.all(
        clients.flatMap((client, c) => sent[c].map((message) => client.appendMessages('c1', [message]))),
      );
      expect(results).toEqual(Array.from({ length: 50 }, () => true));
      const cached = (await clients[0].getCachedMessages('c1'))!;
      expect(cached).toHaveLength(50);
      expect(new Set(cached.map((message) => message.id)).size).toBe(50);
      sent.forEach((own, c) => {
        expect(cached.filter((message) => String(message.id).startsWith(`client${c}-`))).toEqual(own);
      });
      expect(await budgetCounts()).toEqual({ listed: 50, total: 50, sizes: 50 });
    });

    it('keeps the exact order of sequentially awaited appends', async () => {
      const cache = await newClient();
      await cache.cacheMessages('c1', []);
      const sent = messages(50);
      for (const message of sent) expect(await cache.appendMessages('c1', [message])).toBe(true);
      expect(await cache.getCachedMessages('c1')).toEqual(sent);
    });

    it('keeps the messages of one append together under concurrency', async () => {
      const clients = await Promise.all(Array.from({ length: 4 }, () => newClient()));
      await clients[0].cacheMessages('c1', []);
      const batches = Array.from({ length: 20 }, (_, b) => messages(3, `batch${b}-`));
      await Promise.all(batches.map((batch, b) => clients[b % 4].appendMessages('c1', batch)));
      const cached = (await clients[0].getCachedMessages('c1'))!;
      expect(cached).toHaveLength(60);
      for (let i = 0; i < 60; i += 3) {
        const prefix = String(cached[i].id).replace(/0$/, '');
        expect(cached.slice(i, i + 3).map((message) => message.id)).toEqual([`${prefix}0`, `${prefix}1`, `${prefix}2`]);
      }
    });
  });

  describe('the global message budget', () => {
    it('keeps list lengths, total and sizes equal and within the budget after every step of concurrent fills', async () => {
      const clients = await Promise.all(Array.from({ length: 3 }, () => newClient({ maxCachedMessages: 100 })));
      let seed = 7;
      // xorshift32: a fixed, well-mixed sequence, so the run is the same every time
      const next = (limit: number) => {
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        return (seed >>> 0) % limit;
      };
      for (let step = 0; step < 25; step++) {
        await Promise.all(
          Array.from({ length: 6 }, (_, i) => {
            const client = clients[i % 3];
            const conversation = `c${next(15)}`;
            const action = next(4);
            if (action === 0) return client.appendMessages(conversation, messages(next(12) + 1, `s${step}i${i}-`));
            if (action === 1) return client.getCachedMessages(conversation);
            return client.cacheMessages(conversation, messages(next(70), `s${step}i${i}-`));
          }),
        );
        const counts = await budgetCounts();
        expect(counts.total).toBe(counts.listed);
        expect(counts.sizes).toBe(counts.listed);
        expect(counts.listed).toBeLessThanOrEqual(100);
        expect((await lruOrder()).sort()).toEqual(await cachedConversations());
      }
      expect(clients.reduce((sum, client) => sum + client.stats().evictions, 0)).toBeGreaterThan(0);
    });

    it('evicts whole conversations least recently accessed first, a read protecting one', async () => {
      const cache = await newClient({ maxCachedMessages: 100 });
      await cache.cacheMessages('a', messages(30, 'a'));
      await cache.cacheMessages('b', messages(30, 'b'));
      await cache.cacheMessages('c', messages(30, 'c'));
      expect(await cache.getCachedMessages('a', { last: 1 })).toEqual(messages(30, 'a').slice(29));
      expect(await cache.cacheMessages('d', messages(30, 'd'))).toBe(true);
      expect(await cachedConversations()).toEqual(['a', 'c', 'd']);
      expect(await lruOrder()).toEqual(['c', 'a', 'd']);
      expect(cache.stats().evictions).toBe(1);
      expect(await budgetCounts()).toEqual({ listed: 90, total: 90, sizes: 90 });
    });

    it('never evicts the conversation being appended to, even when it is the least recently used', async () => {
      const cache = await newClient({ maxCachedMessages: 100 });
      await cache.cacheMessages('a', messages(30, 'a'));
      await cache.cacheMessages('b', messages(30, 'b'));
      await cache.cacheMessages('c', messages(30, 'c'));
      expect(await cache.appendMessages('a', messages(20, 'more'))).toBe(true);
      expect(await cachedConversations()).toEqual(['a', 'c']);
      expect(await lruOrder()).toEqual(['c', 'a']);
      expect(await cache.getCachedMessages('a')).toEqual([...messages(30, 'a'), ...messages(20, 'more')]);
      expect(await budgetCounts()).toEqual({ listed: 80, total: 80, sizes: 80 });
    });

    it('does not cache a conversation larger than the budget, and evicts nothing for it', async () => {
      const cache = await newClient({ maxCachedMessages: 100 });
      await cache.cacheMessages('a', messages(50, 'a'));
      expect(await cache.cacheMessages('huge', messages(101, 'h'))).toBe(false);
      expect(await cache.getCachedMessages('huge')).toBeNull();
      expect(await cachedConversations()).toEqual(['a']);
      expect(cache.stats().evictions).toBe(0);
      expect(await budgetCounts()).toEqual({ listed: 50, total: 50, sizes: 50 });
    });

    it('refuses an append that would take a conversation over the whole budget and drops only that conversation', async () => {
      const cache = await newClient({ maxCachedMessages: 100 });
      await cache.cacheMessages('a', messages(60, 'a'));
      await cache.cacheMessages('b', messages(30, 'b'));
      expect(await cache.appendMessages('a', messages(41, 'more'))).toBe(false);
      expect(await cache.getCachedMessages('a')).toBeNull();
      expect(await cache.getCachedMessages('b')).toEqual(messages(30, 'b'));
      expect(cache.stats()).toMatchObject({ appends: 0, evictions: 0 });
      expect(await budgetCounts()).toEqual({ listed: 30, total: 30, sizes: 30 });
    });

    it('spends the whole budget exactly: a conversation of exactly maxCachedMessages fits alone', async () => {
      const cache = await newClient({ maxCachedMessages: 100 });
      await cache.cacheMessages('a', messages(1, 'a'));
      expect(await cache.cacheMessages('full', messages(100, 'f'))).toBe(true);
      expect(await cachedConversations()).toEqual(['full']);
      expect(await budgetCounts()).toEqual({ listed: 100, total: 100, sizes: 100 });
    });

    it('fills, appends to and reads a conversation of the largest size the default limits allow', async () => {
      // about 1 MB each way: this checks the limits, not the latency, so a loaded machine gets 5 s
      const cache = await newClient({}, 5000);
      const all = messages(10_000);
      expect(await cache.cacheMessages('long', all.slice(0, 9_000))).toBe(true);
      expect(await cache.appendMessages('long', all.slice(8_000))).toBe(true);
      expect(await cache.getCachedMessages('long')).toEqual(all);
      expect(await redis.scard(keysOf('long').ids)).toBe(10_001); // 10,000 ids and the marker
      expect(await budgetCounts()).toEqual({ listed: 10_000, total: 10_000, sizes: 10_000 });
    });

    it('never serves a conversation larger than a lowered budget: a read or an append drops it', async () => {
      const before = await newClient({ maxCachedMessages: 100 });
      await before.cacheMessages('long', messages(40, 'l'));
      await before.cacheMessages('short', messages(10, 's'));
      // a smaller maxCachedMessages deployed, or a client configured with less than the backend
      const after = await newClient({ maxCachedMessages: 30 });
      expect(await after.getCachedMessages('long', { last: 5 })).toBeNull();
      expect(await before.cacheMessages('long', messages(40, 'l'))).toBe(true);
      expect(await after.appendMessages('long', messages(1, 'x'))).toBe(false);
      expect(await after.getCachedMessages('short')).toEqual(messages(10, 's'));
      expect(await after.getOrLoadMessages('long', async () => messages(40, 'l'))).toEqual(messages(40, 'l'));
      expect(await cachedConversations()).toEqual(['short']);
      expect(after.stats()).toEqual(messageStats({ hits: 1, misses: 2, dropped: 2 }));
      expect(await budgetCounts()).toEqual({ listed: 10, total: 10, sizes: 10 });
    });

    it('holds the bucket to a lowered budget on a read: the least recently used conversations make room', async () => {
      const before = await newClient({ maxCachedMessages: 100 });
      for (const id of ['a', 'b', 'c']) await before.cacheMessages(id, messages(20, id));
      const after = await newClient({ maxCachedMessages: 30 });
      expect(await after.getCachedMessages('c', { last: 1 })).toEqual(messages(20, 'c').slice(-1));
      expect(await lruOrder()).toEqual(['c']);
      expect(after.stats()).toEqual(messageStats({ hits: 1, evictions: 2 }));
      expect(await budgetCounts()).toEqual({ listed: 20, total: 20, sizes: 20 });
    });

    it('rebuilds lost counts instead of overrunning the budget when the LRU record is gone', async () => {
      const cache = await newClient({ maxCachedMessages: 100 });
      await cache.cacheMessages('a', messages(40, 'a'));
      await cache.cacheMessages('b', messages(40, 'b'));
      await redis.del(BUCKET.lru, BUCKET.total);
      expect(await cache.cacheMessages('c', messages(40, 'c'))).toBe(true);
      // the LRU is rebuilt from the sizes (a before b, both older than c), and a makes room
      expect(await cachedConversations()).toEqual(['b', 'c']);
      expect(await budgetCounts()).toEqual({ listed: 80, total: 80, sizes: 80 });
      expect(cache.stats()).toMatchObject({ evictions: 1, dropped: 0 });
      for (const key of await topology.keys('*')) expect(await redis.pttl(key)).toBeGreaterThan(0);
    });
  });

  describe('TTL and recency', () => {
    it('purges the counts of expired conversations on the next operation, making the budget whole again', async () => {
      const cache = await newClient({ maxCachedMessages: 100, ttlSeconds: 1 });
      await cache.cacheMessages('old', messages(60, 'o'));
      await sleep(600);
      await cache.cacheMessages('young', messages(30, 'y'));
      await sleep(500);
      expect(await redis.exists(keysOf('old').messages)).toBe(0);
      expect(await redis.exists(keysOf('young').messages)).toBe(1);
      expect(await redis.get(BUCKET.total)).toBe('90');
      expect(await cache.cacheMessages('new', messages(70, 'n'))).toBe(true);
      expect(cache.stats().evictions).toBe(0);
      expect(await cachedConversations()).toEqual(['new', 'young']);
      expect((await lruOrder()).sort()).toEqual(['new', 'young']);
      expect(await budgetCounts()).toEqual({ listed: 100, total: 100, sizes: 100 });
    });

    it('starts from an empty budget once every conversation has expired', async () => {
      const cache = await newClient({ maxCachedMessages: 100, ttlSeconds: 1 });
      await cache.cacheMessages('a', messages(50, 'a'));
      await cache.cacheMessages('b', messages(50, 'b'));
      await sleep(1100);
      expect(await topology.keys('*')).toEqual([]);
      expect(await cache.getCachedMessages('a')).toBeNull();
      expect(await cache.cacheMessages('c', messages(100, 'c'))).toBe(true);
      expect(cache.stats().evictions).toBe(0);
      expect(await budgetCounts()).toEqual({ listed: 100, total: 100, sizes: 100 });
    });

    it.each([
      ['a read', (cache: MessageCacheClient) => cache.getCachedMessages('c1', { last: 1 })],
      ['a hit of getOrLoadMessages', (cache: MessageCacheClient) => cache.getOrLoadMessages('c1', async () => [])],
      ['an append', (cache: MessageCacheClient) => cache.appendMessages('c1', [{ id: 'late' }])],
      ['a fill', (cache: MessageCacheClient) => cache.cacheMessages('c1', messages(3, 'refill'))],
    ])('refreshes the TTL of every key and the recency of the conversation on %s', async (_, operation) => {
      const cache = await newClient({ ttlSeconds: 100 });
      await cache.cacheMessages('c1', messages(3));
      await cache.cacheMessages('other', messages(2, 'o'));
      const c1 = keysOf('c1');
      const keys = [c1.messages, c1.ids, BUCKET.lru, BUCKET.sizes, BUCKET.total];
      for (const key of keys) await redis.pexpire(key, 5000);
      const before = Number(await redis.zscore(BUCKET.lru, 'c1'));
      expect(await lruOrder()).toEqual(['c1', 'other']);
      await operation(cache);
      for (const key of keys) {
        const ttl = await redis.pttl(key);
        expect(ttl).toBeGreaterThan(90_000);
        expect(ttl).toBeLessThanOrEqual(100_000);
      }
      expect(Number(await redis.zscore(BUCKET.lru, 'c1'))).toBeGreaterThan(before);
      expect(await lruOrder()).toEqual(['other', 'c1']);
    });

    it('leaves no key without a TTL after a mixed workload, leases included', async () => {
      const cache = await newClient({ maxCachedMessages: 50 });
      const other = await newClient({ maxCachedMessages: 50 });
      await cache.cacheMessages('empty', []);
      for (let i = 0; i < 8; i++) await cache.cacheMessages(`c${i}`, messages(9, `c${i}-`));
      await other.appendMessages('c7', messages(3, 'x'));
      await other.getCachedMessages('c6');
      await cache.clearConversation('c5');
      await cache.appendMessages('not-cached', messages(1));
      await cache.getOrLoadMessages('loaded', async () => messages(4));
      const release = gate();
      const pending = gatedLoader(messages(2), release.opened);
      const loading = other.getOrLoadMessages('pending', pending.loader);
      await pending.started;
      const keys = await topology.keys('*');
      expect(keys).toEqual(expect.arrayContaining([keysOf('pending').lease, BUCKET.lru, BUCKET.sizes, BUCKET.total]));
      const withoutTtl = [];
      for (const key of keys) if ((await redis.pttl(key)) <= 0) withoutTtl.push(key);
      expect(withoutTtl).toEqual([]);
      release.open();
      await loading;
    });
  });

  describe('bad arguments', () => {
    it.each([
      ['empty', ''],
      ['longer than 256 characters', 'x'.repeat(257)],
      ['with a NUL', 'a\u0000b'],
      ['with a newline', 'a\nb'],
      ['with a C1 control character', 'a\u0085b'],
      ['with a lone surrogate', 'a\ud800b'],
      ['a number', 42],
      ['undefined', undefined],
    ])('rejects a conversation id that is %s, on every method', async (_, id) => {
      const cache = await newClient();
      const conversationId = id as string;
      await expectInputError(cache.getCachedMessages(conversationId), 'conversationId');
      await expectInputError(cache.appendMessages(conversationId, []), 'conversationId');
      await expectInputError(cache.cacheMessages(conversationId, []), 'conversationId');
      await expectInputError(
        cache.getOrLoadMessages(conversationId, async () => []),
        'conversationId',
      );
      await expectInputError(cache.clearConversation(conversationId), 'conversationId');
      expect(await topology.dbsize()).toBe(0);
    });

    it('accepts a conversation id of exactly 256 characters, braces and colons included', async () => {
      const cache = await newClient();
      const id = '{x}:'.repeat(64);
      expect(await cache.cacheMessages(id, messages(1))).toBe(true);
      expect(await cache.getCachedMessages(id)).toEqual(messages(1));
      expect(await redis.exists(keysOf(id).messages)).toBe(1);
    });

    class Message {
      content = 'instance';
    }
    const circular: Record<string, unknown> = { id: 'loop' };
    circular.self = circular;

    it.each([
      ['an array', [], ''],
      ['null', null, ''],
      ['a string', 'hello', ''],
      ['a class instance', new Message(), ''],
      ['a Date', new Date(0), ''],
      ['an object with a __proto__ key', JSON.parse('{"__proto__":1}'), '.__proto__'],
      ['an object with an undefined value', { content: undefined }, '.content'],
      ['an object with NaN', { n: NaN }, '.n'],
      ['an object with Infinity', { n: Infinity }, '.n'],
      ['an object with a function', { f: () => 1 }, '.f'],
      ['an object with a bigint', { n: BigInt(1) }, '.n'],
      ['an object with a nested Date', { at: { when: new Date(0) } }, '.at.when'],
      ['a circular object', circular, '.self'],
    ])('rejects a message that is %s, naming it', async (_, message, path) => {
      const cache = await newClient();
      await cache.cacheMessages('c1', []);
      const batch = [{ id: 'fine' }, message] as CachedMessage[];
      await expectInputError(cache.appendMessages('c1', batch), `newMessages[1]${path}`);
      await expectInputError(cache.cacheMessages('c1', batch), `messages[1]${path}`);
      expect(await cache.getCachedMessages('c1')).toEqual([]);
    });

    it('rejects messages that are not an array', async () => {
      const cache = await newClient();
      await expectInputError(cache.appendMessages('c1', { id: 1 } as unknown as CachedMessage[]), 'newMessages');
      await expectInputError(cache.cacheMessages('c1', null as unknown as CachedMessage[]), 'messages');
    });

    it('rejects a message that serializes to more than maxMessageBytes, counting UTF-8 bytes', async () => {
      const cache = await newClient({ maxMessageBytes: 100 });
      await cache.cacheMessages('c1', []);
      const fits = { c: 'é'.repeat(46) };
      expect(Buffer.byteLength(JSON.stringify(fits))).toBe(100);
      expect(await cache.appendMessages('c1', [fits])).toBe(true);
      await expectInputError(cache.appendMessages('c1', [{ id: 1 }, { c: 'é'.repeat(47) }]), 'newMessages[1]');
      expect(await cache.getCachedMessages('c1')).toEqual([fits]);
    });

    it('rejects more messages in one call than maxMessagesPerCall', async () => {
      const cache = await newClient({ maxMessagesPerCall: 3 });
      await expectInputError(cache.cacheMessages('c1', messages(4)), 'messages');
      expect(await topology.dbsize()).toBe(0);
    });

    it.each([0, -1, 1.5, NaN, '2'])('rejects options.last = %p', async (last) => {
      const cache = await newClient();
      await cache.cacheMessages('c1', messages(2));
      await expectInputError(cache.getCachedMessages('c1', { last: last as number }), 'options.last');
    });

    it('rejects a loader that is not a function, and a loader result that is not messages', async () => {
      const cache = await newClient();
      const notALoader = 'load' as unknown as () => Promise<CachedMessage[]>;
      await expectInputError(cache.getOrLoadMessages('c1', notALoader), 'loader');
      const notMessages = async () => ({ rows: [] }) as unknown as CachedMessage[];
      await expectInputError(cache.getOrLoadMessages('c1', notMessages), 'loader()');
      await expectInputError(
        cache.getOrLoadMessages('c1', async () => [{ at: new Date(0) }]),
        'loader()[0].at',
      );
      expect(await cache.getCachedMessages('c1')).toBeNull();
    });
  });

  describe('MessageCacheService', () => {
    it('is the same client: it reads what a MessageCacheClient wrote and shares its budget', async () => {
      const connection = await topology.connect();
      opened.push(connection);
      const service = new MessageCacheService(connection, { maxCachedMessages: 10 });
      const client = await newClient({ maxCachedMessages: 10 });
      await client.cacheMessages('from-client', messages(6, 'c'));
      expect(await service.getCachedMessages('from-client')).toEqual(messages(6, 'c'));
      expect(await service.cacheMessages('from-service', messages(6, 's'))).toBe(true);
      expect(await client.getCachedMessages('from-client')).toBeNull();
      expect(service.stats().evictions).toBe(1);
    });
  });
});

describe('MessageCacheClient when Redis fails', () => {
  let server: RedisServer;

  beforeEach(async () => {
    server = await RedisServer.start();
  });

  afterEach(async () => {
    await server.stop();
  });

  async function waitUntilDown(connection: Redis): Promise<void> {
    while (connection.status === 'ready') await sleep(5);
  }

  it('never rejects with the server killed: reads give null, writes false, loads the loader data', async () => {
    const connection = await connectedCacheRedis(server.url);
    const warnings: string[] = [];
    const cache = new MessageCacheClient(connection, {}, { logger: { warn: (line) => warnings.push(line) } });
    await cache.cacheMessages('c1', messages(2));
    await server.kill();
    await waitUntilDown(connection);
    const loader = jest.fn(async () => messages(4));
    expect(await cache.getCachedMessages('c1')).toBeNull();
    expect(await cache.appendMessages('c1', messages(1, 'x'))).toBe(false);
    expect(await cache.cacheMessages('c2', messages(1))).toBe(false);
    expect(await cache.clearConversation('c1')).toBe(false);
    expect(await cache.getOrLoadMessages('c1', async () => messages(3))).toEqual(messages(3));
    const shared = Array.from({ length: 3 }, () => cache.getOrLoadMessages('c3', loader));
    expect(await Promise.all(shared)).toEqual([messages(4), messages(4), messages(4)]);
    expect(loader).toHaveBeenCalledTimes(1);
    // 7 fallbacks: the read, the append, the fill, the clear, and the three loads of c3 sharing one read each;
    // the load of c1, whose append failed, does not try Redis: its cached copy may be stale
    expect(cache.stats()).toEqual(messageStats({ fills: 1, fallbacks: 7 }));
    expect(warnings).toHaveLength(1);
    // a disconnect while reconnecting leaves an ioredis timer behind; a clean quit does not
    await server.restart();
    await waitUntilReady(connection);
    await connection.quit();
  });

  it('never serves a conversation a failed append may have left stale, and clears it once Redis is back', async () => {
    const writerConnection = await connectedCacheRedis(server.url);
    const readerConnection = await connectedCacheRedis(server.url);
    const quiet = { logger: { warn: () => undefined } };
    const writer = new MessageCacheClient(writerConnection, {}, quiet);
    const reader = new MessageCacheClient(readerConnection, {}, quiet);
    await writer.cacheMessages('c1', messages(2));
    writerConnection.disconnect();
    await waitUntilDown(writerConnection);
    expect(await writer.appendMessages('c1', messages(1, 'x'))).toBe(false);
    expect(await reader.getCachedMessages('c1')).toEqual(messages(2));
    // the writer serves it no more, even before it is cleared
    expect(await writer.getCachedMessages('c1')).toBeNull();
    await writerConnection.connect();
    await waitUntilReady(writerConnection);
    // cleared in the background as the connection came back, with no call of the writer's
    await until(async () => (await reader.getCachedMessages('c1')) === null, 2000);
    // the script's reply reaches the writer just after the key is gone
    await until(() => writer.stats().clears === 1, 2000);
    expect(writer.stats()).toEqual(messageStats({ fills: 1, fallbacks: 1, clears: 1, misses: 1 }));
    writerConnection.disconnect();
    readerConnection.disconnect();
  });
});
