import type { Redis } from 'ioredis';
import { EmbeddingCacheService, type CacheWriteOptions, type EmbeddingCacheOptions } from '@wbot/redis-cache';
import { embeddingField, embeddingKeys } from '../../src/keys';
import { MAX_TTL_SECONDS } from '../../src/options/defaults';
import { connectedCacheRedis, inspector } from '../../../../test/support/redis-client';
import { RedisServer } from '../../../../test/support/redis-server';
import { expectInputError } from '../support/input-error';

/**
 * `ttlSeconds` on one write: the entries it writes live that long without a
 * read or a write, instead of the cache's TTL, and keep it: a hit slides them
 * by their own TTL; a write without it gives them the cache's again. The
 * user's keys live as long as their longest-lived entry. Times are checked on
 * the server's clock: an entry's deadline is its last access plus its TTL, in
 * microseconds, and a key's PEXPIRETIME is the moment it expires, in ms.
 */
const HOUR = 3600;
/**
 * How far a key's expiry may be from the deadline the script computed: Redis sets it from its clock in whole ms as
 * the command began, the script reads TIME a moment later, a few µs on an idle machine, a millisecond or more under
 * load. The TTLs these tests tell apart differ by seconds at least.
 */
const CLOCK_SKEW_MS = 10;
let server: RedisServer;
let client: Redis;
let inspect: Redis;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const field = (text: string) => embeddingField('default', 'float32', text);
const USER = embeddingKeys('u');

function cache(options: EmbeddingCacheOptions = {}): EmbeddingCacheService {
  return new EmbeddingCacheService(client, options, { deadlineMs: 5000 });
}

/** The entry's last access, in µs of the server's clock, from the LRU. */
async function lastAccess(text: string): Promise<number> {
  return Number(await inspect.zscore(USER.lru, field(text)));
}

/** The entry's TTL as the scripts keep it: from its last access to its deadline, in seconds. */
async function ownTtl(text: string): Promise<number> {
  return (Number(await inspect.zscore(USER.deadlines, field(text))) - (await lastAccess(text))) / 1e6;
}

/**
 * Checks that each of the user's keys expires `ttlMs` after the access at `fromUs` (µs of the server's clock), within
 * `CLOCK_SKEW_MS`.
 */
async function expectKeysToExpire(fromUs: number, ttlMs: number): Promise<void> {
  for (const key of [USER.vectors, USER.lru, USER.deadlines]) {
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

describe('an entry written with its own TTL', () => {
  it('gets that TTL: its deadline is its last access plus it, and the keys expire with it', async () => {
    expect(await cache({ ttlSeconds: HOUR }).cacheEmbedding('u', 'a', [1, 2], { ttlSeconds: 60 })).toBe(true);
    expect(await ownTtl('a')).toBe(60);
    await expectKeysToExpire(await lastAccess('a'), 60_000);
  });

  it("keeps its TTL through hits, single and batch: each slides it by its own TTL, not the cache's", async () => {
    const embeddings = cache({ ttlSeconds: HOUR });
    await embeddings.cacheEmbeddings('u', [{ text: 'a', embedding: [1] }], { ttlSeconds: 60 });
    const written = await lastAccess('a');
    await sleep(20);
    expect(await embeddings.getCachedEmbedding('u', 'a')).toEqual([1]);
    const read = await lastAccess('a');
    expect(read - written).toBeGreaterThanOrEqual(20_000);
    expect(await ownTtl('a')).toBe(60);
    await expectKeysToExpire(read, 60_000);

    await sleep(20);
    expect(await embeddings.getCachedEmbeddings('u', ['a', 'x'])).toEqual([[1], null]);
    expect(await lastAccess('a')).toBeGreaterThan(read);
    expect(await ownTtl('a')).toBe(60);
    await expectKeysToExpire(await lastAccess('a'), 60_000);
  });

  it("gives the user's other entries deadlines of the cache's TTL, which their hits keep", async () => {
    const embeddings = cache({ ttlSeconds: HOUR });
    await embeddings.cacheEmbedding('u', 'default', [1]);
    expect(await inspect.exists(USER.deadlines)).toBe(0);
    await embeddings.cacheEmbedding('u', 'own', [2], { ttlSeconds: 60 });
    expect(await ownTtl('default')).toBe(HOUR);
    expect(await ownTtl('own')).toBe(60);
    await embeddings.getCachedEmbedding('u', 'default');
    expect(await ownTtl('default')).toBe(HOUR);
    // the keys live as long as the longest-lived entry: the default one, read last
    await expectKeysToExpire(await lastAccess('default'), HOUR * 1000);
  });

  it("takes the cache's TTL again when written again without one", async () => {
    const embeddings = cache({ ttlSeconds: HOUR });
    await embeddings.cacheEmbedding('u', 'a', [1], { ttlSeconds: 60 });
    await embeddings.cacheEmbedding('u', 'a', [2]);
    expect(await ownTtl('a')).toBe(HOUR);
    await expectKeysToExpire(await lastAccess('a'), HOUR * 1000);
  });

  it("keeps the user's keys as long as a TTL longer than the cache's, through later writes of other entries", async () => {
    const embeddings = cache({ ttlSeconds: 60 });
    await embeddings.cacheEmbedding('u', 'long', [1], { ttlSeconds: HOUR });
    const long = await lastAccess('long');
    await embeddings.cacheEmbedding('u', 'short', [2]);
    expect(await ownTtl('short')).toBe(60);
    await expectKeysToExpire(long, HOUR * 1000);
  });

  it("is gone once idle for its own TTL, shorter than the cache's, while an entry of the cache's TTL stays", async () => {
    const embeddings = cache({ ttlSeconds: 60 });
    await embeddings.cacheEmbeddings('u', [{ text: 'short', embedding: [1] }], { ttlSeconds: 1 });
    await embeddings.cacheEmbedding('u', 'default', [2]);
    await sleep(1100);
    expect(await embeddings.getCachedEmbeddings('u', ['short', 'default'])).toEqual([null, [2]]);
    // purged with its LRU record and its deadline
    expect(await inspect.hkeys(USER.vectors)).toEqual([field('default')]);
    expect(await inspect.zrange(USER.lru, 0, '-1')).toEqual([field('default')]);
    expect(await inspect.zrange(USER.deadlines, 0, '-1')).toEqual([field('default')]);
  });

  it("outlives the cache's TTL when its own is longer, while an entry of the cache's TTL is gone", async () => {
    const embeddings = cache({ ttlSeconds: 1 });
    await embeddings.cacheEmbedding('u', 'default', [1]);
    await embeddings.cacheEmbedding('u', 'long', [2], { ttlSeconds: 3 });
    await sleep(1500);
    expect(await embeddings.getCachedEmbeddings('u', ['default', 'long'])).toEqual([null, [2]]);
    expect(await inspect.zrange(USER.lru, 0, '-1')).toEqual([field('long')]);
  });

  it('leaves no key without a TTL, and clearUser removes the deadlines too', async () => {
    const embeddings = cache({ ttlSeconds: 60, maxEntriesPerUser: 2 });
    await embeddings.cacheEmbeddings('u', [
      { text: 'a', embedding: [1] },
      { text: 'b', embedding: [2] },
    ]);
    await embeddings.cacheEmbedding('u', 'c', [3], { ttlSeconds: 5 });
    await embeddings.getOrComputeEmbeddings('u', ['a', 'b', 'c', 'd'], async (missing) => missing.map(() => [4]));
    const keys = (await inspect.keys('*')).sort();
    expect(keys).toEqual([USER.deadlines, USER.lru, USER.vectors].sort());
    for (const key of keys) expect(await inspect.pttl(key)).toBeGreaterThan(0);
    // evicted entries leave the deadlines with the LRU
    expect((await inspect.zrange(USER.deadlines, 0, '-1')).sort()).toEqual(
      (await inspect.zrange(USER.lru, 0, '-1')).sort(),
    );
    expect(await embeddings.clearUser('u')).toBe(true);
    // all but the clear's fence, which has the TTL too
    expect(await inspect.keys('*')).toEqual([USER.cleared]);
    expect(await inspect.pttl(USER.cleared)).toBeGreaterThan(0);
  });
});

describe('after Redis lost one of the keys', () => {
  it('drops, on the next write, the deadlines of the entries lost with the LRU index', async () => {
    const embeddings = cache({ ttlSeconds: HOUR });
    await embeddings.cacheEmbedding('u', 'own', [1], { ttlSeconds: 60 });
    await embeddings.cacheEmbedding('u', 'default', [2]);
    await inspect.del(USER.lru);
    await embeddings.cacheEmbedding('u', 'new', [3]);
    expect(await inspect.hkeys(USER.vectors)).toEqual([field('new')]);
    expect(await inspect.zrange(USER.deadlines, 0, '-1')).toEqual([field('new')]);
    expect(await ownTtl('new')).toBe(HOUR);
  });

  it('drops, on the next write, the deadlines of the entries lost with both the vectors and the LRU index', async () => {
    const embeddings = cache({ ttlSeconds: HOUR });
    await embeddings.cacheEmbedding('u', 'own', [1], { ttlSeconds: 60 });
    await embeddings.cacheEmbedding('u', 'default', [2]);
    await inspect.del(USER.vectors, USER.lru);
    await embeddings.cacheEmbedding('u', 'new', [3]);
    expect(await inspect.zrange(USER.deadlines, 0, '-1')).toEqual([field('new')]);
  });

  it("gives the entries the cache's TTL again once the deadlines are lost", async () => {
    const embeddings = cache({ ttlSeconds: HOUR });
    await embeddings.cacheEmbedding('u', 'own', [1], { ttlSeconds: 60 });
    await inspect.del(USER.deadlines);
    expect(await embeddings.getCachedEmbedding('u', 'own')).toEqual([1]);
    expect(await inspect.exists(USER.deadlines)).toBe(0);
    const read = await lastAccess('own');
    for (const key of [USER.vectors, USER.lru]) {
      const at = (await inspect.call('PEXPIRETIME', key)) as number;
      expect(Math.abs(at - (read / 1000 + HOUR * 1000))).toBeLessThan(CLOCK_SKEW_MS);
    }
  });
});

describe('the bounds of ttlSeconds', () => {
  it.each<[string, unknown]>([
    ['0', 0],
    ['-1', -1],
    ['1.5', 1.5],
    ['a string', '60'],
    ['NaN', Number.NaN],
    ['past the bound', MAX_TTL_SECONDS + 1],
  ])('rejects %s as options.ttlSeconds, with nothing written', async (_, ttlSeconds) => {
    const embeddings = cache();
    const options = { ttlSeconds } as CacheWriteOptions;
    for (const call of [
      embeddings.cacheEmbedding('u', 'a', [1], options),
      embeddings.cacheEmbeddings('u', [{ text: 'a', embedding: [1] }], options),
    ]) {
      const error = await expectInputError(() => call, 'options.ttlSeconds');
      expect(error.message).toContain(`must be an integer from 1 to ${MAX_TTL_SECONDS}`);
    }
    expect(await inspect.dbsize()).toBe(0);
  });

  it('rejects options that are not an object', async () => {
    await expectInputError(() => cache().cacheEmbedding('u', 'a', [1], 60 as unknown as CacheWriteOptions), 'options');
  });

  it('takes the bound itself, 100 years, as the cache does', async () => {
    const embeddings = cache({ ttlSeconds: MAX_TTL_SECONDS });
    expect(await embeddings.cacheEmbedding('u', 'a', [1], { ttlSeconds: MAX_TTL_SECONDS })).toBe(true);
    expect(await embeddings.cacheEmbedding('u', 'b', [1], { ttlSeconds: 1 })).toBe(true);
    expect(await ownTtl('a')).toBe(MAX_TTL_SECONDS);
    await expectKeysToExpire(await lastAccess('a'), MAX_TTL_SECONDS * 1000);
  });
});
