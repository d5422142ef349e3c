import type { Cluster, Redis } from 'ioredis';
import {
  EmbeddingCacheService,
  RedisCacheInputError,
  createCacheRedis,
  type EmbeddingCacheOptions,
  type EmbeddingEntry,
} from '@wbot/redis-cache';
import { embeddingField, embeddingKeys, userTag, type Precision } from '../../src/keys';
import { waitUntilReady } from '../../../../test/support/redis-client';
import { RedisServer } from '../../../../test/support/redis-server';
import { TOPOLOGIES, startTopology, type Topology } from '../support/topology';
import { embeddingStats } from '../../../../test/support/cache-stats';

// cluster-key-slot (an ioredis dependency) computes Redis Cluster's slot exactly and ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const clusterKeySlot = require('cluster-key-slot') as (key: string) => number;

/** A generous deadline: these tests prove behaviour, and a slow CI machine must not turn a call into a fallback. */
const RUNTIME_DEADLINE_MS = 5000;

let topology: Topology;
let client: Redis | Cluster;
let inspect: Redis | Cluster;
let warnings: string[];

function connect(url: string): Redis {
  // ioredis's disconnect() on a socket the server already closed leaves a 2 s
  // disconnectTimeout timer behind, which would keep Jest from exiting
  return createCacheRedis(url, { commandTimeout: RUNTIME_DEADLINE_MS, disconnectTimeout: 50 });
}

function cache(options: EmbeddingCacheOptions = {}, redis: Redis | Cluster = client): EmbeddingCacheService {
  return new EmbeddingCacheService(redis, options, {
    deadlineMs: RUNTIME_DEADLINE_MS,
    logger: { warn: (message) => warnings.push(message) },
  });
}

/** A small vector whose elements are all exact float32 values, different for every seed. */
function vector(seed: number): number[] {
  return [seed, seed + 0.5, -seed, seed / 4];
}

function field(text: string, namespace = 'default', precision: Precision = 'float32', secret?: string): string {
  return embeddingField(namespace, precision, text, secret);
}

const fields = (texts: string[]): string[] => texts.map((text) => field(text));
const sorted = (values: string[]): string[] => [...values].sort();

/** What Redis holds for a user: the hash's fields (sorted) and the LRU index, least recently used first. */
async function stored(userId: string): Promise<{ vectors: string[]; lru: string[] }> {
  const keys = embeddingKeys(userId);
  const [vectors, lru] = await Promise.all([inspect.hkeys(keys.vectors), inspect.zrange(keys.lru, 0, '-1')]);
  return { vectors: sorted(vectors), lru };
}

async function allKeys(): Promise<string[]> {
  return sorted(await topology.keys());
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function rejection(promise: Promise<unknown>): Promise<RedisCacheInputError> {
  const error = await promise.then(
    () => new Error('expected a rejection, but the call resolved'),
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(RedisCacheInputError);
  return error as RedisCacheInputError;
}

beforeEach(() => {
  warnings = [];
});

describe.each(TOPOLOGIES)('on %s', (name) => {
  beforeAll(async () => {
    topology = await startTopology(name);
    client = await topology.connect({ commandTimeout: RUNTIME_DEADLINE_MS, disconnectTimeout: 50 });
    inspect = topology.inspect;
  }, 30_000); // a cluster forms in about 2 s alone, far slower on a loaded machine

  afterAll(async () => {
    client.disconnect();
    await topology.stop();
  });

  beforeEach(async () => {
    await topology.flushall();
  });

  describe('the seed API', () => {
    it('returns null for a text never cached, then the cached vector once cacheEmbedding returned true', async () => {
      const embeddings = cache();
      expect(await embeddings.getCachedEmbedding('user-1', 'hello')).toBeNull();
      expect(await embeddings.cacheEmbedding('user-1', 'hello', vector(1))).toBe(true);
      expect(await embeddings.getCachedEmbedding('user-1', 'hello')).toEqual(vector(1));
    });

    it('keeps users apart: a text cached for one user misses for another, and each reads back its own vector', async () => {
      const embeddings = cache();
      await embeddings.cacheEmbedding('alice', 'hello', vector(1));
      expect(await embeddings.getCachedEmbedding('bob', 'hello')).toBeNull();
      await embeddings.cacheEmbedding('bob', 'hello', vector(2));
      expect(await embeddings.getCachedEmbedding('alice', 'hello')).toEqual(vector(1));
      expect(await embeddings.getCachedEmbedding('bob', 'hello')).toEqual(vector(2));
    });

    it('replaces the vector of a text cached again, keeping one entry', async () => {
      const embeddings = cache();
      await embeddings.cacheEmbedding('user-1', 'hello', vector(1));
      await embeddings.cacheEmbedding('user-1', 'hello', vector(2));
      expect(await embeddings.getCachedEmbedding('user-1', 'hello')).toEqual(vector(2));
      expect(await stored('user-1')).toEqual({ vectors: fields(['hello']), lru: fields(['hello']) });
    });

    it('caches the empty text like any other', async () => {
      const embeddings = cache();
      await embeddings.cacheEmbedding('user-1', '', vector(1));
      expect(await embeddings.getCachedEmbedding('user-1', '')).toEqual(vector(1));
      expect(await embeddings.getCachedEmbedding('user-1', ' ')).toBeNull();
    });
  });

  describe('exact LRU per user', () => {
    it('evicts the least recently used entry: with a limit of 3, a,b,c then reading a then writing d keeps c,a,d', async () => {
      const embeddings = cache({ maxEntriesPerUser: 3 });
      for (const [i, text] of ['a', 'b', 'c'].entries()) await embeddings.cacheEmbedding('u', text, vector(i));
      expect(await embeddings.getCachedEmbedding('u', 'a')).toEqual(vector(0));
      await embeddings.cacheEmbedding('u', 'd', vector(3));

      expect(await stored('u')).toEqual({ vectors: sorted(fields(['a', 'c', 'd'])), lru: fields(['c', 'a', 'd']) });
      expect(await embeddings.getCachedEmbedding('u', 'b')).toBeNull();
      expect(embeddings.stats()).toEqual(embeddingStats({ hits: 1, misses: 1, writes: 4, evictions: 1, fallbacks: 0 }));
    });

    it('keeps the exact order of the same scenario when all its calls are pipelined in one tick', async () => {
      const embeddings = cache({ maxEntriesPerUser: 3 });
      const calls = [
        embeddings.cacheEmbedding('u', 'a', vector(0)),
        embeddings.cacheEmbedding('u', 'b', vector(1)),
        embeddings.cacheEmbedding('u', 'c', vector(2)),
        embeddings.getCachedEmbedding('u', 'a'),
        embeddings.cacheEmbedding('u', 'd', vector(3)),
        embeddings.getCachedEmbedding('u', 'b'),
      ];
      expect(await Promise.all(calls)).toEqual([true, true, true, vector(0), true, null]);
      expect(await stored('u')).toEqual({ vectors: sorted(fields(['a', 'c', 'd'])), lru: fields(['c', 'a', 'd']) });
    });

    it('orders 200 operations issued in one tick exactly as issued, with strictly increasing scores', async () => {
      const embeddings = cache({ maxEntriesPerUser: 50 });
      const texts = Array.from({ length: 100 }, (_, i) => `t${i}`);
      const expected = [...texts];
      const calls: Promise<unknown>[] = texts.map((text, i) => embeddings.cacheEmbedding('u', text, vector(i)));
      for (let i = 0; i < 100; i++) {
        const text = texts[(i * 37) % 100];
        calls.push(embeddings.getCachedEmbedding('u', text));
        // a hit moves the text to the most recent end; a miss (already evicted) changes nothing
        const index = expected.indexOf(text);
        if (index >= expected.length - 50) expected.push(...expected.splice(index, 1));
      }
      await Promise.all(calls);

      const scores = await inspect.zrange(embeddingKeys('u').lru, 0, '-1', 'WITHSCORES');
      const values = scores.filter((_, i) => i % 2 === 1).map(Number);
      expect(values.every((score, i) => i === 0 || score > values[i - 1])).toBe(true);
      expect(await stored('u')).toEqual({
        vectors: sorted(fields(expected.slice(-50))),
        lru: fields(expected.slice(-50)),
      });
    });

    it('counts writing an existing text as a use: with a limit of 3, a,b,c then a again then d evicts b', async () => {
      const embeddings = cache({ maxEntriesPerUser: 3 });
      for (const text of ['a', 'b', 'c', 'a', 'd']) await embeddings.cacheEmbedding('u', text, vector(1));
      expect(await stored('u')).toEqual({ vectors: sorted(fields(['a', 'c', 'd'])), lru: fields(['c', 'a', 'd']) });
      expect(embeddings.stats().evictions).toBe(1);
    });

    it('keeps the last entries of a batch larger than the limit, in batch order', async () => {
      const embeddings = cache({ maxEntriesPerUser: 3 });
      const texts = ['a', 'b', 'c', 'd', 'e'];
      expect(
        await embeddings.cacheEmbeddings(
          'u',
          texts.map((text, i) => ({ text, embedding: vector(i) })),
        ),
      ).toBe(true);
      expect(await stored('u')).toEqual({ vectors: sorted(fields(['c', 'd', 'e'])), lru: fields(['c', 'd', 'e']) });
      expect(embeddings.stats()).toEqual(embeddingStats({ hits: 0, misses: 0, writes: 5, evictions: 2, fallbacks: 0 }));
    });

    it('counts the limit per user: one user filling up evicts nothing of another', async () => {
      const embeddings = cache({ maxEntriesPerUser: 2 });
      await embeddings.cacheEmbedding('alice', 'a', vector(1));
      for (const text of ['x', 'y', 'z']) await embeddings.cacheEmbedding('bob', text, vector(2));
      expect(await stored('alice')).toEqual({ vectors: fields(['a']), lru: fields(['a']) });
      expect((await stored('bob')).lru).toEqual(fields(['y', 'z']));
    });

    it.each([10, 50])(
      'leaves exactly %i entries after 100 concurrent writes on one connection: the last ones, hash and index alike',
      async (max) => {
        const embeddings = cache({ maxEntriesPerUser: max });
        const texts = Array.from({ length: 100 }, (_, i) => `text ${i}`);
        const results = await Promise.all(texts.map((text, i) => embeddings.cacheEmbedding('u', text, vector(i))));
        expect(results).toEqual(texts.map(() => true));
        const keys = embeddingKeys('u');
        expect(await inspect.hlen(keys.vectors)).toBe(max);
        expect(await inspect.zcard(keys.lru)).toBe(max);
        expect(await stored('u')).toEqual({
          vectors: sorted(fields(texts.slice(-max))),
          lru: fields(texts.slice(-max)),
        });
        expect(embeddings.stats().evictions).toBe(100 - max);
      },
    );

    it.each([10, 50])(
      'leaves exactly %i entries after 100 concurrent writes over 4 connections, with no orphan either way',
      async (max) => {
        const clients = await Promise.all(
          [0, 1, 2, 3].map(async () => {
            return topology.connect({ commandTimeout: RUNTIME_DEADLINE_MS, disconnectTimeout: 50 });
          }),
        );
        try {
          const services = clients.map((redis) => cache({ maxEntriesPerUser: max }, redis));
          const texts = Array.from({ length: 100 }, (_, i) => `text ${i}`);
          const results = await Promise.all(
            texts.map((text, i) => services[i % 4].cacheEmbedding('u', text, vector(i))),
          );
          expect(warnings).toEqual([]);
          expect(results).toEqual(texts.map(() => true));
          const { vectors, lru } = await stored('u');
          expect(vectors).toHaveLength(max);
          expect(sorted(lru)).toEqual(vectors);
          expect(vectors.every((entry) => fields(texts).includes(entry))).toBe(true);
          const evictions = services.reduce((sum, service) => sum + service.stats().evictions, 0);
          expect(evictions).toBe(100 - max);
        } finally {
          clients.forEach((redis) => redis.disconnect());
        }
      },
    );

    it('drops index records whose vectors Redis lost, so the limit counts only real entries', async () => {
      const embeddings = cache({ maxEntriesPerUser: 3 });
      for (const text of ['a', 'b', 'c']) await embeddings.cacheEmbedding('u', text, vector(1));
      // what maxmemory eviction of the hash alone leaves behind
      await inspect.del(embeddingKeys('u').vectors);
      await embeddings.cacheEmbedding('u', 'd', vector(2));
      expect(await stored('u')).toEqual({ vectors: fields(['d']), lru: fields(['d']) });
      expect(embeddings.stats().evictions).toBe(0);
    });

    it('drops vectors whose index records Redis lost, so the hash never outgrows the limit', async () => {
      const embeddings = cache({ maxEntriesPerUser: 3 });
      for (const text of ['a', 'b', 'c']) await embeddings.cacheEmbedding('u', text, vector(1));
      await inspect.del(embeddingKeys('u').lru);
      await embeddings.cacheEmbedding('u', 'd', vector(2));
      expect(await stored('u')).toEqual({ vectors: fields(['d']), lru: fields(['d']) });
    });
  });

  describe('sliding TTL', () => {
    it('forgets an entry idle for the TTL, index record included, while a younger one stays', async () => {
      const embeddings = cache({ ttlSeconds: 2 });
      await embeddings.cacheEmbedding('u', 'old', vector(1));
      await sleep(1500);
      await embeddings.cacheEmbedding('u', 'young', vector(2));
      // 'old' is now idle for at least 2.1 s; 'young' for about 0.6 s, far from its 2 s
      await sleep(600);

      expect(await embeddings.getCachedEmbedding('u', 'young')).toEqual(vector(2));
      expect(await stored('u')).toEqual({ vectors: fields(['young']), lru: fields(['young']) });
      expect(await embeddings.getCachedEmbedding('u', 'old')).toBeNull();
    });

    it('keeps an entry read before the TTL ran out, past the time it was first due', async () => {
      const embeddings = cache({ ttlSeconds: 2 });
      await embeddings.cacheEmbeddings('u', [
        { text: 'read', embedding: vector(1) },
        { text: 'unread', embedding: vector(2) },
      ]);
      await sleep(1200);
      expect(await embeddings.getCachedEmbedding('u', 'read')).toEqual(vector(1));
      await sleep(1000);

      expect(await embeddings.getCachedEmbedding('u', 'read')).toEqual(vector(1));
      expect(await stored('u')).toEqual({ vectors: fields(['read']), lru: fields(['read']) });
      expect(await embeddings.getCachedEmbedding('u', 'unread')).toBeNull();
    });

    it('lets both keys of a user expire once none of their entries was used for the TTL', async () => {
      const embeddings = cache({ ttlSeconds: 1 });
      await embeddings.cacheEmbedding('u', 'a', vector(1));
      const keys = embeddingKeys('u');
      expect(await inspect.exists(keys.vectors, keys.lru)).toBe(2);
      await sleep(1100);
      expect(await inspect.exists(keys.vectors, keys.lru)).toBe(0);
    });

    it('gives every key it writes a TTL of at most ttlSeconds, refreshed by reads', async () => {
      const embeddings = cache({ ttlSeconds: 60 });
      await embeddings.cacheEmbedding('alice', 'a', vector(1));
      await embeddings.cacheEmbeddings('bob', [{ text: 'b', embedding: vector(2) }]);
      await embeddings.getOrComputeEmbeddings('carol', ['c'], async () => [vector(3)]);
      const keys = await allKeys();
      expect(keys).toHaveLength(6);
      for (const key of keys) {
        const ttl = await inspect.pttl(key);
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(60_000);
      }

      const { vectors, lru } = embeddingKeys('alice');
      await inspect.pexpire(vectors, 5000);
      await inspect.pexpire(lru, 5000);
      await embeddings.getCachedEmbedding('alice', 'a');
      expect(await inspect.pttl(vectors)).toBeGreaterThan(5000);
      expect(await inspect.pttl(lru)).toBeGreaterThan(5000);
    });

    it('stores neither the text nor the user id in any key, field or value', async () => {
      const userId = 'alice@example.com';
      const text = 'my secret diagnosis';
      const embeddings = cache();
      await embeddings.cacheEmbedding(userId, text, vector(1));
      await embeddings.getCachedEmbedding(userId, text);

      const keys = await allKeys();
      expect(keys).toEqual(sorted([embeddingKeys(userId).vectors, embeddingKeys(userId).lru]));
      const hash = await inspect.hgetallBuffer(embeddingKeys(userId).vectors);
      const members = await inspect.zrange(embeddingKeys(userId).lru, 0, '-1');
      const everything = [...keys, ...Object.keys(hash), ...members];
      const utf16 = (value: string) => Buffer.from(value, 'utf16le').toString('latin1');
      for (const secret of [userId, text, 'alice', 'diagnosis', utf16(text)]) {
        expect(everything.filter((item) => item.includes(secret))).toEqual([]);
        expect(Object.values(hash).filter((bytes) => bytes.includes(secret))).toEqual([]);
      }
      expect(Object.values(hash).map((bytes) => bytes.length)).toEqual([16]);
    });
  });

  describe('entry fields', () => {
    it('keeps namespaces apart on one Redis: each service reads only its own vector of the same text', async () => {
      const modelA = cache({ namespace: 'model-a' });
      const modelB = cache({ namespace: 'model-b' });
      await modelA.cacheEmbedding('u', 'hello', vector(1));
      expect(await modelB.getCachedEmbedding('u', 'hello')).toBeNull();
      await modelB.cacheEmbedding('u', 'hello', vector(2));
      expect(await modelA.getCachedEmbedding('u', 'hello')).toEqual(vector(1));
      expect(await modelB.getCachedEmbedding('u', 'hello')).toEqual(vector(2));
      expect((await stored('u')).vectors).toEqual(sorted([field('hello', 'model-a'), field('hello', 'model-b')]));
    });

    it('keeps float32 and float64 entries apart, each stored at its own width', async () => {
      const single = cache({ precision: 'float32' });
      const double = cache({ precision: 'float64' });
      await single.cacheEmbedding('u', 'hello', [Math.PI]);
      expect(await double.getCachedEmbedding('u', 'hello')).toBeNull();
      await double.cacheEmbedding('u', 'hello', [Math.PI]);
      expect(await single.getCachedEmbedding('u', 'hello')).toEqual([Math.fround(Math.PI)]);
      expect(await double.getCachedEmbedding('u', 'hello')).toEqual([Math.PI]);

      const { vectors } = embeddingKeys('u');
      expect((await inspect.hgetBuffer(vectors, field('hello', 'default', 'float32')))!.length).toBe(4);
      expect((await inspect.hgetBuffer(vectors, field('hello', 'default', 'float64')))!.length).toBe(8);
    });

    it('stores under the HMAC with hashSecret, reads its own writes, and shares nothing with other secrets', async () => {
      const secret = cache({ hashSecret: 's3cret' });
      const other = cache({ hashSecret: 'other' });
      const plain = cache();
      await secret.cacheEmbedding('u', 'hello', vector(1));

      expect((await stored('u')).vectors).toEqual([field('hello', 'default', 'float32', 's3cret')]);
      expect(field('hello', 'default', 'float32', 's3cret')).not.toBe(field('hello'));
      expect(await secret.getCachedEmbedding('u', 'hello')).toEqual(vector(1));
      expect(await plain.getCachedEmbedding('u', 'hello')).toBeNull();
      expect(await other.getCachedEmbedding('u', 'hello')).toBeNull();
    });
  });

  describe('hostile user ids', () => {
    const hostile = ['a}b{c', '{x}', '}{', 'user:1', 'user', ':1', 'user-😀', 'x'.repeat(1024), '😀'.repeat(512)];

    it('stores and reads back a distinct vector for each of them', async () => {
      const embeddings = cache();
      await Promise.all(hostile.map((userId, i) => embeddings.cacheEmbedding(userId, 'hello', vector(i))));
      expect(await Promise.all(hostile.map((userId) => embeddings.getCachedEmbedding(userId, 'hello')))).toEqual(
        hostile.map((_, i) => vector(i)),
      );
      expect(await allKeys()).toHaveLength(2 * hostile.length);
    });

    it.each(
      hostile.map((userId) => [userId.length > 20 ? `${userId.slice(0, 4)}… (${userId.length})` : userId, userId]),
    )('puts every key of user %j in one hash slot, the slot of its tag', async (_label, userId) => {
      await cache().cacheEmbedding(userId, 'hello', vector(1));
      const { vectors, lru } = embeddingKeys(userId);
      expect(sorted(await topology.keys(`*{${userTag(userId)}}*`))).toEqual(sorted([vectors, lru]));
      expect(clusterKeySlot(vectors)).toBe(clusterKeySlot(userTag(userId)));
      expect(clusterKeySlot(lru)).toBe(clusterKeySlot(userTag(userId)));
    });

    it("never confuses the user 'user:1' and text 'x' with the user 'user' and text ':1:x' or 'user:1:x'", async () => {
      const embeddings = cache();
      await embeddings.cacheEmbedding('user:1', 'x', vector(1));
      expect(await embeddings.getCachedEmbedding('user', ':1:x')).toBeNull();
      expect(await embeddings.getCachedEmbedding('user', '1:x')).toBeNull();
      expect(await embeddings.getCachedEmbedding('user:1:x', 'x')).toBeNull();
      expect(await embeddings.getCachedEmbedding('user:', '1:x')).toBeNull();
    });

    it.each([
      ['a 10 KB id', 'u'.repeat(10 * 1024)],
      ['an id of 1025 characters', 'u'.repeat(1025)],
      ['an id with a lone surrogate', 'user-\ud83d'],
      ['an id of swapped surrogates', '\ude00\ud83d'],
    ])('rejects %s with RedisCacheInputError naming userId, writing nothing', async (_case, userId) => {
      const embeddings = cache();
      expect((await rejection(embeddings.cacheEmbedding(userId, 'hello', vector(1)))).argument).toBe('userId');
      expect((await rejection(embeddings.getCachedEmbedding(userId, 'hello'))).argument).toBe('userId');
      expect(await topology.dbsize()).toBe(0);
    });
  });

  describe('vector precision', () => {
    it('round-trips float32 values exactly in float32 precision, as number[] and as Float32Array input', async () => {
      const values = [Math.fround(0.1), Math.fround(-Math.E), Math.fround(3.4e38), Math.fround(1e-45), -0, 0];
      const embeddings = cache();
      await embeddings.cacheEmbedding('u', 'array', values);
      await embeddings.cacheEmbedding('u', 'typed', Float32Array.from(values));
      expect(await embeddings.getCachedEmbedding('u', 'array')).toEqual(values);
      expect(await embeddings.getCachedEmbedding('u', 'typed')).toEqual(values);
    });

    it('rounds doubles to float32 in float32 precision', async () => {
      const embeddings = cache();
      await embeddings.cacheEmbedding('u', 'pi', [Math.PI, 0.1]);
      expect(await embeddings.getCachedEmbedding('u', 'pi')).toEqual([Math.fround(Math.PI), Math.fround(0.1)]);
    });

    it('round-trips exact doubles in float64 precision', async () => {
      const values = [Math.PI, 1e-300, -Number.MAX_VALUE, Number.MIN_VALUE, 0.1, 1e39];
      const embeddings = cache({ precision: 'float64' });
      await embeddings.cacheEmbedding('u', 'doubles', values);
      expect(await embeddings.getCachedEmbedding('u', 'doubles')).toEqual(values);
    });

    it('stores float16 at 2 bytes per element and reads back each element rounded to nearest, ties to even', async () => {
      const embeddings = cache({ precision: 'float16' });
      // 1 + 2^-11 is halfway between 1 and 1 + 2^-10 (goes to even, 1); 1 + 3 * 2^-11 goes up to 1 + 2^-9
      const values = [0.1, -2.5, 65504, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -24, 1e-8];
      await embeddings.cacheEmbedding('u', 'halves', values);
      await embeddings.cacheEmbedding('u', 'typed', Float32Array.from(values));
      const rounded = [0.0999755859375, -2.5, 65504, 1, 1 + 2 ** -9, 2 ** -24, 0];
      expect(await embeddings.getCachedEmbedding('u', 'halves')).toEqual(rounded);
      expect(Array.from((await embeddings.getCachedEmbedding('u', 'typed', { asFloat32Array: true }))!)).toEqual(
        rounded,
      );
      const bytes = await inspect.hgetBuffer(embeddingKeys('u').vectors, field('halves', 'default', 'float16'));
      expect(bytes!.length).toBe(14);
      expect([...bytes!.subarray(0, 4)]).toEqual([0x66, 0x2e, 0x00, 0xc1]);
    });

    it('keeps float16 entries apart from float32 ones of the same text', async () => {
      const halves = cache({ precision: 'float16' });
      const singles = cache({ precision: 'float32' });
      await singles.cacheEmbedding('u', 'hello', [0.1]);
      expect(await halves.getCachedEmbedding('u', 'hello')).toBeNull();
      await halves.cacheEmbedding('u', 'hello', [0.1]);
      expect(await halves.getCachedEmbedding('u', 'hello')).toEqual([0.0999755859375]);
      expect(await singles.getCachedEmbedding('u', 'hello')).toEqual([Math.fround(0.1)]);
    });

    it('rejects a float16 element past 65504 with RedisCacheInputError naming it, writing nothing', async () => {
      const embeddings = cache({ precision: 'float16' });
      const error = await rejection(embeddings.cacheEmbedding('u', 't', [1, 65505]));
      expect([error.argument, error.message]).toEqual(['embedding[1]', 'embedding[1] must be a finite float16 number']);
      expect(await topology.dbsize()).toBe(0);
    });

    it('returns a computed float16 vector exactly as a later read returns it', async () => {
      const embeddings = cache({ precision: 'float16' });
      const computed = await embeddings.getOrComputeEmbeddings('u', ['pi'], async () => [[Math.PI, 0.1]]);
      expect(computed).toEqual([[3.140625, 0.0999755859375]]);
      expect(await embeddings.getCachedEmbedding('u', 'pi')).toEqual(computed[0]);
    });

    it('round-trips a 1536-dimension float32 vector exactly', async () => {
      const values = Array.from({ length: 1536 }, (_, i) => Math.fround(Math.sin(i)));
      const embeddings = cache();
      await embeddings.cacheEmbedding('u', 'long', values);
      expect(await embeddings.getCachedEmbedding('u', 'long')).toEqual(values);
    });
  });

  describe('Float32Array results', () => {
    it('returns a Float32Array from getCachedEmbedding and getCachedEmbeddings when asked, null for misses', async () => {
      const embeddings = cache();
      await embeddings.cacheEmbedding('u', 'a', vector(1));
      const one = await embeddings.getCachedEmbedding('u', 'a', { asFloat32Array: true });
      expect(one).toBeInstanceOf(Float32Array);
      expect(Array.from(one!)).toEqual(vector(1));

      const many = await embeddings.getCachedEmbeddings('u', ['a', 'missing'], { asFloat32Array: true });
      expect(many[0]).toBeInstanceOf(Float32Array);
      expect(Array.from(many[0]!)).toEqual(vector(1));
      expect(many[1]).toBeNull();
      expect(await embeddings.getCachedEmbedding('u', 'a')).toBeInstanceOf(Array);
    });

    it('returns Float32Arrays from getOrComputeEmbeddings when asked, for cached and computed texts alike', async () => {
      const embeddings = cache();
      await embeddings.cacheEmbedding('u', 'cached', vector(1));
      const result = await embeddings.getOrComputeEmbeddings('u', ['cached', 'new'], async () => [vector(2)], {
        asFloat32Array: true,
      });
      expect(result.map((item) => item instanceof Float32Array)).toEqual([true, true]);
      expect(result.map((item) => Array.from(item))).toEqual([vector(1), vector(2)]);
    });
  });

  describe('batches', () => {
    it('returns one result per text, in order, for hits, misses and duplicates alike', async () => {
      const embeddings = cache();
      expect(
        await embeddings.cacheEmbeddings('u', [
          { text: 'a', embedding: vector(1) },
          { text: 'b', embedding: vector(2) },
        ]),
      ).toBe(true);
      expect(await embeddings.getCachedEmbeddings('u', ['a', 'x', 'b', 'a', 'y', 'x'])).toEqual([
        vector(1),
        null,
        vector(2),
        vector(1),
        null,
        null,
      ]);
      expect(embeddings.stats()).toEqual(embeddingStats({ hits: 3, misses: 3, writes: 2, evictions: 0, fallbacks: 0 }));
      // the hits were used in the order given: a, b, then a again
      expect(await stored('u')).toEqual({ vectors: sorted(fields(['a', 'b'])), lru: fields(['b', 'a']) });
    });

    it('keeps the last vector of a text given twice in one batch', async () => {
      const embeddings = cache();
      await embeddings.cacheEmbeddings('u', [
        { text: 'a', embedding: vector(1) },
        { text: 'a', embedding: vector(2) },
      ]);
      expect(await embeddings.getCachedEmbedding('u', 'a')).toEqual(vector(2));
      expect(await stored('u')).toEqual({ vectors: fields(['a']), lru: fields(['a']) });
    });

    it('answers empty batches without touching Redis', async () => {
      const embeddings = cache();
      const compute = jest.fn(async (texts: string[]) => texts.map(() => vector(1)));
      expect(await embeddings.getCachedEmbeddings('u', [])).toEqual([]);
      expect(await embeddings.cacheEmbeddings('u', [])).toBe(true);
      expect(await embeddings.getOrComputeEmbeddings('u', [], compute)).toEqual([]);
      expect(compute).not.toHaveBeenCalled();
      expect(embeddings.stats()).toEqual(embeddingStats({ hits: 0, misses: 0, writes: 0, evictions: 0, fallbacks: 0 }));
      expect(await topology.dbsize()).toBe(0);
    });

    it('reads and writes a batch of maxBatchSize 10000 in one call each', async () => {
      const embeddings = cache({ maxBatchSize: 10_000, maxEntriesPerUser: 10_000 });
      const texts = Array.from({ length: 10_000 }, (_, i) => `text ${i}`);
      expect(
        await embeddings.cacheEmbeddings(
          'u',
          texts.map((text, i) => ({ text, embedding: [i] })),
        ),
      ).toBe(true);
      const result = await embeddings.getCachedEmbeddings('u', texts);
      expect(result).toEqual(texts.map((_, i) => [i]));
      expect(embeddings.stats()).toEqual(
        embeddingStats({ hits: 10_000, misses: 0, writes: 10_000, evictions: 0, fallbacks: 0 }),
      );
    });
  });

  describe('getOrComputeEmbeddings', () => {
    it('computes only the distinct missing texts, in one call, and caches them', async () => {
      const embeddings = cache();
      await embeddings.cacheEmbedding('u', 'a', vector(1));
      const compute = jest.fn(async (texts: string[]) => texts.map((text) => vector(text.charCodeAt(0))));

      const result = await embeddings.getOrComputeEmbeddings('u', ['b', 'a', 'c', 'b'], compute);
      expect(result).toEqual([vector(98), vector(1), vector(99), vector(98)]);
      expect(compute.mock.calls).toEqual([[['b', 'c']]]);
      expect(await embeddings.getCachedEmbeddings('u', ['b', 'c'])).toEqual([vector(98), vector(99)]);

      expect(await embeddings.getOrComputeEmbeddings('u', ['c', 'a', 'b'], compute)).toEqual([
        vector(99),
        vector(1),
        vector(98),
      ]);
      expect(compute).toHaveBeenCalledTimes(1);
    });

    it('makes exactly one compute call for 20 concurrent identical calls', async () => {
      const embeddings = cache();
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const compute = jest.fn(async (texts: string[]) => {
        await released;
        return texts.map((_, i) => vector(i + 1));
      });
      const calls = Array.from({ length: 20 }, () => embeddings.getOrComputeEmbeddings('u', ['a', 'b'], compute));
      await sleep(50);
      release();
      const results = await Promise.all(calls);
      expect(results).toEqual(calls.map(() => [vector(1), vector(2)]));
      expect(compute.mock.calls).toEqual([[['a', 'b']]]);
      expect(await embeddings.getCachedEmbeddings('u', ['a', 'b'])).toEqual([vector(1), vector(2)]);
    });

    it('shares the overlap of concurrent calls and computes only what each adds', async () => {
      const embeddings = cache();
      const compute = jest.fn(async (texts: string[]) => texts.map((text) => vector(text.charCodeAt(0))));
      const [first, second] = await Promise.all([
        embeddings.getOrComputeEmbeddings('u', ['a', 'b'], compute),
        embeddings.getOrComputeEmbeddings('u', ['b', 'c'], compute),
      ]);
      expect(first).toEqual([vector(97), vector(98)]);
      expect(second).toEqual([vector(98), vector(99)]);
      expect(compute.mock.calls).toEqual([[['a', 'b']], [['c']]]);
    });

    it('returns a computed vector exactly as a later read returns it, rounded to the stored precision', async () => {
      const embeddings = cache();
      const computed = await embeddings.getOrComputeEmbeddings('u', ['pi'], async () => [[Math.PI, 0.1]]);
      expect(computed).toEqual([[Math.fround(Math.PI), Math.fround(0.1)]]);
      expect(await embeddings.getOrComputeEmbeddings('u', ['pi'], async () => [[0, 0]])).toEqual(computed);

      const doubles = cache({ precision: 'float64' });
      expect(await doubles.getOrComputeEmbeddings('u', ['pi'], async () => [[Math.PI]])).toEqual([[Math.PI]]);
    });

    it('gives every text and every caller its own array, so changing one result changes no other', async () => {
      const embeddings = cache();
      const shared = vector(1);
      const compute = async () => [shared];
      const [first, second] = await Promise.all([
        embeddings.getOrComputeEmbeddings('u', ['a', 'a'], compute),
        embeddings.getOrComputeEmbeddings('u', ['a'], compute),
      ]);
      first[0][0] = 100;
      expect([first[1], second[0], shared]).toEqual([vector(1), vector(1), vector(1)]);
    });

    it('does not share computations between users', async () => {
      const embeddings = cache();
      const compute = jest.fn(async (texts: string[]) => texts.map(() => vector(1)));
      await Promise.all([
        embeddings.getOrComputeEmbeddings('alice', ['a'], compute),
        embeddings.getOrComputeEmbeddings('bob', ['a'], compute),
      ]);
      expect(compute).toHaveBeenCalledTimes(2);
      expect(await embeddings.getCachedEmbedding('bob', 'a')).toEqual(vector(1));
    });

    it('rejects with the error compute rejected with, caches nothing, and computes afresh next time', async () => {
      const embeddings = cache();
      const failure = new Error('model unavailable');
      let fail!: (error: Error) => void;
      const failing = new Promise<never>((_, reject) => (fail = reject));
      const calls = [
        embeddings.getOrComputeEmbeddings('u', ['a'], () => failing),
        embeddings.getOrComputeEmbeddings('u', ['a'], async () => [vector(9)]),
      ];
      // both calls have missed and the second joined the first's computation before it fails
      await sleep(50);
      fail(failure);
      await expect(calls[0]).rejects.toBe(failure);
      await expect(calls[1]).rejects.toBe(failure);
      expect(await topology.dbsize()).toBe(0);

      expect(await embeddings.getOrComputeEmbeddings('u', ['a'], async () => [vector(2)])).toEqual([vector(2)]);
    });

    it('rejects a compute that throws synchronously with its error', async () => {
      const failure = new Error('thrown');
      const compute = () => {
        throw failure;
      };
      await expect(cache().getOrComputeEmbeddings('u', ['a'], compute)).rejects.toBe(failure);
    });

    it.each([
      ['too few vectors', async () => [vector(1)]],
      ['too many vectors', async () => [vector(1), vector(2), vector(3)]],
      ['no array', async () => 'vectors' as unknown as number[][]],
    ])('rejects with RedisCacheInputError naming compute when it returns %s', async (_case, compute) => {
      const embeddings = cache();
      const error = await rejection(embeddings.getOrComputeEmbeddings('u', ['a', 'b'], compute));
      expect(error.argument).toBe('compute');
      expect(error.message).toBe('compute must resolve to 2 vectors, one per missing text');
      expect(await topology.dbsize()).toBe(0);
    });

    it('rejects with RedisCacheInputError naming the element when compute returns a non-finite value', async () => {
      const embeddings = cache();
      const error = await rejection(embeddings.getOrComputeEmbeddings('u', ['a', 'b'], async () => [[1], [2, NaN]]));
      expect(error.argument).toBe('compute()[1][1]');
      expect(await topology.dbsize()).toBe(0);
    });
  });

  describe('clearUser', () => {
    it('removes every entry of that user and nothing of another', async () => {
      const embeddings = cache();
      await embeddings.cacheEmbeddings('alice', [
        { text: 'a', embedding: vector(1) },
        { text: 'b', embedding: vector(2) },
      ]);
      await embeddings.cacheEmbedding('bob', 'a', vector(3));

      expect(await embeddings.clearUser('alice')).toBe(true);
      expect(await embeddings.getCachedEmbeddings('alice', ['a', 'b'])).toEqual([null, null]);
      expect(await embeddings.getCachedEmbedding('bob', 'a')).toEqual(vector(3));
      // and alice's fence, which keeps a computation begun before the clear from writing after it
      expect(await allKeys()).toEqual(
        sorted([embeddingKeys('bob').vectors, embeddingKeys('bob').lru, embeddingKeys('alice').cleared]),
      );
    });

    it('succeeds for a user with no entries', async () => {
      expect(await cache().clearUser('nobody')).toBe(true);
    });

    it("clears a user's entries of every namespace, since they share the user's keys", async () => {
      await cache({ namespace: 'model-a' }).cacheEmbedding('u', 'a', vector(1));
      await cache({ namespace: 'model-b' }).cacheEmbedding('u', 'a', vector(2));
      await cache({ namespace: 'model-a' }).clearUser('u');
      expect(await allKeys()).toEqual([embeddingKeys('u').cleared]);
    });
  });

  describe('stats', () => {
    it('counts hits, misses, writes and evictions exactly over a known sequence', async () => {
      const embeddings = cache({ maxEntriesPerUser: 2 });
      await embeddings.getCachedEmbedding('u', 'a'); // miss
      await embeddings.cacheEmbedding('u', 'a', vector(1)); // write
      await embeddings.cacheEmbeddings('u', [
        { text: 'b', embedding: vector(2) },
        { text: 'c', embedding: vector(3) },
      ]); // 2 writes, evicts a
      await embeddings.getCachedEmbeddings('u', ['a', 'b', 'c', 'c']); // 1 miss, 3 hits
      await embeddings.getOrComputeEmbeddings('u', ['b', 'd'], async () => [vector(4)]); // 1 hit, 1 miss, 1 write, evicts c
      await embeddings.clearUser('u');
      expect(embeddings.stats()).toEqual(
        embeddingStats({ hits: 4, misses: 3, writes: 4, evictions: 2, clears: 1, fallbacks: 0 }),
      );
    });

    it('returns a copy that later calls do not change', async () => {
      const embeddings = cache();
      const before = embeddings.stats();
      await embeddings.getCachedEmbedding('u', 'a');
      expect(before.misses).toBe(0);
      expect(embeddings.stats().misses).toBe(1);
    });
  });

  describe('argument errors', () => {
    const limits = { maxDimensions: 4, maxBatchSize: 3 };
    const entry = (embedding: unknown): EmbeddingEntry => ({ text: 't', embedding: embedding as number[] });
    const cases: [string, (embeddings: EmbeddingCacheService) => Promise<unknown>, string][] = [
      ['an empty userId', (e) => e.getCachedEmbedding('', 't'), 'userId'],
      ['a 10 KB userId', (e) => e.cacheEmbedding('u'.repeat(10_240), 't', [1]), 'userId'],
      ['a numeric userId', (e) => e.cacheEmbeddings(42 as unknown as string, []), 'userId'],
      ['an undefined userId', (e) => e.clearUser(undefined as unknown as string), 'userId'],
      ['a userId with a lone surrogate', (e) => e.getOrComputeEmbeddings('\udfff', [], async () => []), 'userId'],
      ['a non-string text', (e) => e.getCachedEmbedding('u', 1 as unknown as string), 'text'],
      ['a null text on write', (e) => e.cacheEmbedding('u', null as unknown as string, [1]), 'text'],
      ['an empty vector', (e) => e.cacheEmbedding('u', 't', []), 'embedding'],
      ['a vector that is not an array', (e) => e.cacheEmbedding('u', 't', '1,2' as unknown as number[]), 'embedding'],
      ['a NaN element', (e) => e.cacheEmbedding('u', 't', [0, 1, NaN]), 'embedding[2]'],
      ['an Infinity element', (e) => e.cacheEmbedding('u', 't', [Infinity]), 'embedding[0]'],
      ['a float32 overflow', (e) => e.cacheEmbedding('u', 't', [1, 1e39]), 'embedding[1]'],
      ['more dimensions than maxDimensions', (e) => e.cacheEmbedding('u', 't', [1, 2, 3, 4, 5]), 'embedding'],
      ['texts that are not an array', (e) => e.getCachedEmbeddings('u', 't' as unknown as string[]), 'texts'],
      ['more texts than maxBatchSize', (e) => e.getCachedEmbeddings('u', ['a', 'b', 'c', 'd']), 'texts'],
      ['a non-string among texts', (e) => e.getCachedEmbeddings('u', ['a', 2 as unknown as string]), 'texts[1]'],
      ['a hole among texts', (e) => e.getCachedEmbeddings('u', Array<string>(2)), 'texts[0]'],
      [
        'more entries than maxBatchSize',
        (e) =>
          e.cacheEmbeddings(
            'u',
            [1, 2, 3, 4].map(() => entry([1])),
          ),
        'entries',
      ],
      ['entries that are not an array', (e) => e.cacheEmbeddings('u', {} as EmbeddingEntry[]), 'entries'],
      ['a null entry', (e) => e.cacheEmbeddings('u', [entry([1]), null as unknown as EmbeddingEntry]), 'entries[1]'],
      ['a hole among entries', (e) => e.cacheEmbeddings('u', Array<EmbeddingEntry>(1)), 'entries[0]'],
      [
        'an entry without text',
        (e) => e.cacheEmbeddings('u', [{ embedding: [1] } as EmbeddingEntry]),
        'entries[0].text',
      ],
      ['an entry with a bad vector', (e) => e.cacheEmbeddings('u', [entry([1, NaN])]), 'entries[0].embedding[1]'],
      ['an entry without a vector', (e) => e.cacheEmbeddings('u', [entry(undefined)]), 'entries[0].embedding'],
      [
        'too many texts to compute',
        (e) => e.getOrComputeEmbeddings('u', ['a', 'b', 'c', 'd'], async () => []),
        'texts',
      ],
      ['a compute that is not a function', (e) => e.getOrComputeEmbeddings('u', ['a'], null as never), 'compute'],
    ];

    it.each(cases.map(([label, call, argument]) => ({ label, call, argument })))(
      'rejects $label with RedisCacheInputError naming $argument, touching nothing',
      async ({ call, argument }) => {
        const embeddings = cache(limits);
        const error = await rejection(call(embeddings));
        expect(error.argument).toBe(argument);
        expect(error.message.startsWith(`${argument} `)).toBe(true);
        expect(embeddings.stats()).toEqual(
          embeddingStats({ hits: 0, misses: 0, writes: 0, evictions: 0, fallbacks: 0 }),
        );
        expect(await topology.dbsize()).toBe(0);
      },
    );

    it('accepts float32-overflowing values in float64 precision', async () => {
      const embeddings = cache({ precision: 'float64' });
      expect(await embeddings.cacheEmbedding('u', 't', [1e39])).toBe(true);
      expect(await embeddings.getCachedEmbedding('u', 't')).toEqual([1e39]);
    });
  });

  describe('scripts', () => {
    it('keep working, in order, after SCRIPT FLUSH empties the script cache', async () => {
      const embeddings = cache({ maxEntriesPerUser: 3 });
      for (const text of ['a', 'b', 'c']) await embeddings.cacheEmbedding('u', text, vector(1));
      await topology.scriptFlush();

      const calls = [
        embeddings.getCachedEmbedding('u', 'a'),
        embeddings.cacheEmbedding('u', 'd', vector(2)),
        embeddings.getCachedEmbeddings('u', ['c']),
      ];
      expect(await Promise.all(calls)).toEqual([vector(1), true, [vector(1)]]);
      expect(await stored('u')).toEqual({ vectors: sorted(fields(['a', 'c', 'd'])), lru: fields(['a', 'd', 'c']) });
      await topology.scriptFlush();
      expect(await embeddings.clearUser('u')).toBe(true);
      expect(await allKeys()).toEqual([embeddingKeys('u').cleared]);
      expect(embeddings.stats().fallbacks).toBe(0);
    });
  });
});

describe('with Redis down', () => {
  /** Every call that gave its fallback; Redis is unreachable for all of them. */
  async function exercise(embeddings: EmbeddingCacheService): Promise<void> {
    expect(await embeddings.getCachedEmbedding('u', 'a')).toBeNull();
    expect(await embeddings.getCachedEmbeddings('u', ['a', 'b'])).toEqual([null, null]);
    expect(await embeddings.cacheEmbedding('u', 'a', vector(1))).toBe(false);
    expect(await embeddings.cacheEmbeddings('u', [{ text: 'a', embedding: vector(1) }])).toBe(false);
    expect(await embeddings.clearUser('u')).toBe(false);
    // a read that fell back is a fallback, not a miss: misses count only what Redis answered
    expect(embeddings.stats()).toEqual(embeddingStats({ hits: 0, misses: 0, writes: 0, evictions: 0, fallbacks: 5 }));
  }

  it('gives null for reads and false for writes, counting each fallback, on a client of a closed port', async () => {
    const closed = await RedisServer.start();
    const port = closed.url;
    await closed.stop();
    const redis = connect(port);
    try {
      await exercise(cache({}, redis));
      expect(warnings).toHaveLength(1);
    } finally {
      redis.disconnect();
    }
  });

  it('gives null for reads and false for writes once the server was killed', async () => {
    const doomed = await RedisServer.start();
    const redis = connect(doomed.url);
    try {
      await waitUntilReady(redis);
      const embeddings = cache({}, redis);
      expect(await embeddings.cacheEmbedding('u', 'a', vector(1))).toBe(true);
      const closed = new Promise((resolve) => redis.once('close', resolve));
      await doomed.kill();
      await closed;
      expect(await embeddings.getCachedEmbedding('u', 'a')).toBeNull();
      expect(await embeddings.cacheEmbedding('u', 'b', vector(2))).toBe(false);
      expect(embeddings.stats()).toEqual(embeddingStats({ hits: 0, misses: 0, writes: 1, evictions: 0, fallbacks: 2 }));
    } finally {
      redis.disconnect();
      await doomed.stop();
    }
  });

  it('still computes and returns every vector in getOrComputeEmbeddings, sharing one computation', async () => {
    const closed = await RedisServer.start();
    const port = closed.url;
    await closed.stop();
    const redis = connect(port);
    try {
      const embeddings = cache({}, redis);
      const compute = jest.fn(async (texts: string[]) => texts.map((text) => vector(text.length)));
      const results = await Promise.all([
        embeddings.getOrComputeEmbeddings('u', ['a', 'bb', 'a'], compute),
        embeddings.getOrComputeEmbeddings('u', ['bb'], compute),
      ]);
      expect(results).toEqual([[vector(1), vector(2), vector(1)], [vector(2)]]);
      expect(compute.mock.calls).toEqual([[['a', 'bb']]]);
      // two reads and one write fell back
      expect(embeddings.stats()).toEqual(embeddingStats({ hits: 0, misses: 0, writes: 0, evictions: 0, fallbacks: 3 }));
    } finally {
      redis.disconnect();
    }
  });
});
