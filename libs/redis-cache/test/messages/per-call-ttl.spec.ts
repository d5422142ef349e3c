import type { Redis } from 'ioredis';
import {
  MessageCacheService,
  type CachedMessage,
  type CacheWriteOptions,
  type MessageCacheOptions,
} from '@wbot/redis-cache';
import { MessageCacheClient } from '@wbot/redis-cache/client';
import { conversationKeys } from '../../src/keys';
import { MAX_TTL_SECONDS } from '../../src/options/defaults';
import { connectedCacheRedis, inspector } from '../../../../test/support/redis-client';
import { RedisServer } from '../../../../test/support/redis-server';
import { messageStats } from '../../../../test/support/cache-stats';
import { expectInputError } from '../support/input-error';

/**
 * `ttlSeconds` on `cacheMessages`: the conversation lives that long without a
 * read or a write, instead of the cache's TTL, and keeps it: a read that hits
 * and an append slide it by its own TTL; a fill without it gives it the
 * cache's again. Its list and id set expire with it; the bucket's bookkeeping
 * no sooner than the cache's TTL, and as long as its longest-lived
 * conversation. Times are checked on the server's clock: a conversation's
 * deadline is its last access plus its TTL, in microseconds, and a key's
 * PEXPIRETIME is the moment it expires, in ms.
 */
const HOUR = 3600;
/**
 * How far a key's expiry may be from the deadline the script computed: Redis sets it from its clock in whole ms as
 * the command began, the script reads TIME a moment later, a few µs on an idle machine, a millisecond or more under
 * load. The TTLs these tests tell apart differ by seconds at least.
 */
const CLOCK_SKEW_MS = 10;
const BUCKET = conversationKeys('any', 0);
let server: RedisServer;
let client: Redis;
let inspect: Redis;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const messages = (count: number, prefix: string): CachedMessage[] =>
  Array.from({ length: count }, (_, i) => ({ id: `${prefix}${i}`, content: `${prefix} ${i}` }));
const bucketKeys = [BUCKET.lru, BUCKET.sizes, BUCKET.total, BUCKET.deadlines];
const ownKeys = (conversationId: string) => {
  const { messages: list, ids } = conversationKeys(conversationId, 0);
  return [list, ids];
};

function cache(options: MessageCacheOptions = {}): MessageCacheService {
  return new MessageCacheService(client, options, { deadlineMs: 5000 });
}

/** The conversation's last access, in µs of the server's clock, from the bucket's LRU. */
async function lastAccess(conversationId: string): Promise<number> {
  return Number(await inspect.zscore(BUCKET.lru, conversationId));
}

/** The conversation's TTL as the scripts keep it: from its last access to its deadline, in seconds. */
async function ownTtl(conversationId: string): Promise<number> {
  const deadline = Number(await inspect.zscore(BUCKET.deadlines, conversationId));
  return (deadline - (await lastAccess(conversationId))) / 1e6;
}

/**
 * Checks that each key expires `ttlMs` after the access at `fromUs` (µs of the server's clock), within
 * `CLOCK_SKEW_MS`.
 */
async function expectToExpire(keys: string[], fromUs: number, ttlMs: number): Promise<void> {
  for (const key of keys) {
    const at = (await inspect.call('PEXPIRETIME', key)) as number;
    expect(Math.abs(at - (fromUs / 1000 + ttlMs))).toBeLessThan(CLOCK_SKEW_MS);
  }
}

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

describe('a conversation filled with its own TTL', () => {
  it("gets that TTL for its list and id set; the bucket's keys keep the cache's", async () => {
    expect(await cache({ ttlSeconds: HOUR }).cacheMessages('c', messages(2, 'm'), { ttlSeconds: 60 })).toBe(true);
    expect(await ownTtl('c')).toBe(60);
    const filled = await lastAccess('c');
    await expectToExpire(ownKeys('c'), filled, 60_000);
    await expectToExpire(bucketKeys, filled, HOUR * 1000);
  });

  it("keeps the bucket's keys as long as a TTL longer than the cache's", async () => {
    await cache({ ttlSeconds: 60 }).cacheMessages('c', messages(1, 'm'), { ttlSeconds: HOUR });
    const filled = await lastAccess('c');
    await expectToExpire([...ownKeys('c'), ...bucketKeys], filled, HOUR * 1000);
  });

  it("keeps its TTL through reads and appends: each slides it by its own TTL, not the cache's", async () => {
    const conversations = cache({ ttlSeconds: HOUR });
    await conversations.cacheMessages('c', messages(1, 'm'), { ttlSeconds: 60 });
    const filled = await lastAccess('c');
    await sleep(20);
    expect(await conversations.getCachedMessages('c')).toEqual(messages(1, 'm'));
    const read = await lastAccess('c');
    expect(read - filled).toBeGreaterThanOrEqual(20_000);
    expect(await ownTtl('c')).toBe(60);
    await expectToExpire(ownKeys('c'), read, 60_000);

    await sleep(20);
    expect(await conversations.appendMessages('c', messages(1, 'n'))).toBe(true);
    const appended = await lastAccess('c');
    expect(appended).toBeGreaterThan(read);
    expect(await ownTtl('c')).toBe(60);
    await expectToExpire(ownKeys('c'), appended, 60_000);
  });

  it("takes the cache's TTL again when filled again without one, or by a load", async () => {
    const conversations = cache({ ttlSeconds: HOUR });
    await conversations.cacheMessages('c', messages(1, 'm'), { ttlSeconds: 60 });
    await conversations.cacheMessages('c', messages(1, 'm'));
    expect(await ownTtl('c')).toBe(HOUR);
    await expectToExpire(ownKeys('c'), await lastAccess('c'), HOUR * 1000);

    await conversations.cacheMessages('loaded', messages(1, 'l'), { ttlSeconds: 60 });
    await conversations.clearConversation('loaded');
    expect(await conversations.getOrLoadMessages('loaded', async () => messages(1, 'l'))).toEqual(messages(1, 'l'));
    expect(await ownTtl('loaded')).toBe(HOUR);
  });

  it("gives the bucket's other conversations deadlines of the cache's TTL", async () => {
    const conversations = cache({ ttlSeconds: HOUR });
    await conversations.cacheMessages('default', messages(1, 'd'));
    expect(await inspect.exists(BUCKET.deadlines)).toBe(0);
    await conversations.cacheMessages('own', messages(1, 'o'), { ttlSeconds: 60 });
    expect(await ownTtl('default')).toBe(HOUR);
    expect(await conversations.appendMessages('default', messages(1, 'e'))).toBe(true);
    expect(await ownTtl('default')).toBe(HOUR);
    await expectToExpire(ownKeys('default'), await lastAccess('default'), HOUR * 1000);
  });

  it("is gone once idle for its own TTL, and leaves the budget, while a conversation of the cache's TTL stays", async () => {
    const conversations = cache({ ttlSeconds: 60 });
    await conversations.cacheMessages('short', messages(2, 's'), { ttlSeconds: 1 });
    await conversations.cacheMessages('default', messages(3, 'd'));
    await sleep(1100);
    expect(await conversations.getCachedMessages('default')).toEqual(messages(3, 'd'));
    expect(await inspect.get(BUCKET.total)).toBe('3');
    expect(await inspect.hgetall(BUCKET.sizes)).toEqual({ default: '3' });
    expect(await inspect.zrange(BUCKET.deadlines, 0, '-1')).toEqual(['default']);
    expect(await conversations.getCachedMessages('short')).toBeNull();
    expect(await inspect.exists(...ownKeys('short'))).toBe(0);
  });

  it("outlives the cache's TTL when its own is longer, while a conversation of the cache's TTL is gone", async () => {
    const conversations = cache({ ttlSeconds: 1 });
    await conversations.cacheMessages('default', messages(1, 'd'));
    await conversations.cacheMessages('long', messages(1, 'l'), { ttlSeconds: 3 });
    await sleep(1500);
    expect(await conversations.getCachedMessages('default')).toBeNull();
    expect(await conversations.getCachedMessages('long')).toEqual(messages(1, 'l'));
    expect(await inspect.zrange(BUCKET.lru, 0, '-1')).toEqual(['long']);
  });

  it('leaves the deadlines with the conversation when it is evicted or cleared, and no key without a TTL', async () => {
    const conversations = cache({ ttlSeconds: 60, maxCachedMessages: 4 });
    await conversations.cacheMessages('a', messages(2, 'a'), { ttlSeconds: 5 });
    await conversations.cacheMessages('b', messages(2, 'b'));
    await conversations.cacheMessages('c', messages(2, 'c'), { ttlSeconds: 120 });
    expect((await inspect.zrange(BUCKET.deadlines, 0, '-1')).sort()).toEqual(['b', 'c']);
    await conversations.clearConversation('b');
    expect(await inspect.zrange(BUCKET.deadlines, 0, '-1')).toEqual(['c']);
    const keys = await inspect.keys('*');
    expect(keys.sort()).toEqual([...ownKeys('c'), ...bucketKeys].sort());
    for (const key of keys) expect(await inspect.pttl(key)).toBeGreaterThan(0);
  });

  it('takes the same option through the frontend client, and the backend reading it keeps it', async () => {
    const frontend = new MessageCacheClient(client, { ttlSeconds: HOUR });
    expect(await frontend.cacheMessages('c', messages(1, 'm'), { ttlSeconds: 60 })).toBe(true);
    expect(await cache({ ttlSeconds: HOUR }).getCachedMessages('c')).toEqual(messages(1, 'm'));
    expect(await ownTtl('c')).toBe(60);
    await expectToExpire(ownKeys('c'), await lastAccess('c'), 60_000);
  });
});

describe('after Redis lost one of the bucket keys', () => {
  it("gives the conversations the cache's TTL again once the LRU is rebuilt", async () => {
    const conversations = cache({ ttlSeconds: HOUR });
    await conversations.cacheMessages('own', messages(1, 'o'), { ttlSeconds: 60 });
    await conversations.cacheMessages('default', messages(1, 'd'));
    await inspect.del(BUCKET.lru);
    expect(await conversations.getCachedMessages('own')).toEqual(messages(1, 'o'));
    expect((await inspect.zrange(BUCKET.lru, 0, '-1')).sort()).toEqual(['default', 'own']);
    expect(await ownTtl('own')).toBe(HOUR);
    expect(await ownTtl('default')).toBe(HOUR);
    await expectToExpire(ownKeys('own'), await lastAccess('own'), HOUR * 1000);
  });

  it("gives the conversations the cache's TTL again once the deadlines are lost", async () => {
    const conversations = cache({ ttlSeconds: HOUR });
    await conversations.cacheMessages('own', messages(1, 'o'), { ttlSeconds: 60 });
    await inspect.del(BUCKET.deadlines);
    expect(await conversations.appendMessages('own', messages(1, 'p'))).toBe(true);
    expect(await inspect.exists(BUCKET.deadlines)).toBe(0);
    await expectToExpire(ownKeys('own'), await lastAccess('own'), HOUR * 1000);
  });

  it('lets a conversation with a longer TTL outlive the bucket’s keys once the deadlines are lost: an orphan, never served', async () => {
    const conversations = cache({ ttlSeconds: 1 });
    await conversations.cacheMessages('long', messages(2, 'l'), { ttlSeconds: 60 });
    await inspect.del(BUCKET.deadlines);
    expect(await conversations.cacheMessages('other', messages(1, 'o'))).toBe(true);
    await sleep(1100);
    expect(await inspect.exists(BUCKET.lru, BUCKET.sizes, BUCKET.total, ...ownKeys('other'))).toBe(0);
    // the list keeps the TTL it had at the loss: the bound on how long an orphan stays
    expect(await inspect.pttl(conversationKeys('long', 0).messages)).toBeGreaterThan(55_000);
    expect(await conversations.getCachedMessages('long')).toBeNull();
    expect(await inspect.exists(...ownKeys('long'))).toBe(0);
    expect(conversations.stats()).toEqual(messageStats({ fills: 2, misses: 1, dropped: 1 }));
  });
});

describe('the bounds of ttlSeconds', () => {
  it.each<[string, unknown]>([
    ['0', 0],
    ['1.5', 1.5],
    ['a string', '60'],
    ['past the bound', MAX_TTL_SECONDS + 1],
  ])('rejects %s as options.ttlSeconds, with nothing written', async (_, ttlSeconds) => {
    await expectInputError(
      () => cache().cacheMessages('c', messages(1, 'm'), { ttlSeconds } as CacheWriteOptions),
      'options.ttlSeconds',
    );
    expect(await inspect.dbsize()).toBe(0);
  });
});
