import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, Redis } from 'ioredis';
import { EmbeddingCacheService, type EmbeddingCacheOptions, type NearCacheOptions } from '@wbot/redis-cache';
import { embeddingField, embeddingKeys } from '../../src/keys';
import { embeddingStats } from '../../../../test/support/cache-stats';
import { entryCommands, mastersOf, pause, serving, subscribersOf } from '../support/near-cache';
import { TOPOLOGIES, startTopology, type Topology } from '../support/topology';

/**
 * The embedding near cache, on a single node and on a three-master cluster:
 * what it serves from memory, what makes it forget, and what it asks of Redis.
 */

/** A generous deadline: these tests prove behaviour, and a slow CI machine must not turn a call into a fallback. */
const DEADLINE_MS = 5000;
/** What one entry of `vector()` with a one-character text counts for: 4 dimensions of 8 bytes, 2 bytes, 400. */
const ENTRY_BYTES = 4 * 8 + 2 + 400;

function vector(seed: number): number[] {
  return [seed, seed + 0.5, -seed, seed / 4];
}

describe.each(TOPOLOGIES)('the embedding near cache, on %s', (name) => {
  let topology: Topology;
  let client: Redis | Cluster;
  let other: Redis | Cluster;
  const opened: EmbeddingCacheService[] = [];

  /** A cache on `redis` (this test's client unless given), its near cache on with `near` and `maxBytes` of 1 MB. */
  function cache(
    options: EmbeddingCacheOptions = {},
    near: Partial<NearCacheOptions> | false = {},
    redis: Redis | Cluster = client,
  ): EmbeddingCacheService {
    const nearCache = near === false ? undefined : { maxBytes: 1_000_000, ...near };
    const created = new EmbeddingCacheService(redis, { ...options, nearCache }, { deadlineMs: DEADLINE_MS });
    opened.push(created);
    return created;
  }

  beforeAll(async () => {
    topology = await startTopology(name);
    client = await topology.connect({ commandTimeout: DEADLINE_MS, disconnectTimeout: 50 });
    other = await topology.connect({ commandTimeout: DEADLINE_MS, disconnectTimeout: 50 });
  });

  afterAll(async () => {
    client.disconnect();
    other.disconnect();
    await topology.stop();
  });

  beforeEach(() => topology.flushall());

  afterEach(async () => {
    jest.restoreAllMocks();
    await Promise.all(opened.splice(0).map((embeddings) => embeddings.close()));
  });

  it('serves a hot hit from memory, with no Redis call, as a copy of its own, and counts it', async () => {
    const embeddings = await serving(cache());
    await embeddings.cacheEmbedding('u', 'a', vector(1));
    expect(await embeddings.getCachedEmbedding('u', 'a')).toEqual(vector(1));
    const before = await entryCommands(mastersOf(topology.inspect));
    const hit = (await embeddings.getCachedEmbedding('u', 'a'))!;
    expect(hit).toEqual(vector(1));
    hit[0] = 99;
    expect(await embeddings.getCachedEmbedding('u', 'a')).toEqual(vector(1));
    expect(await embeddings.getCachedEmbedding('u', 'a', { asFloat32Array: true })).toEqual(
      Float32Array.from(vector(1)),
    );
    expect(await embeddings.getCachedEmbeddings('u', ['a', 'a'])).toEqual([vector(1), vector(1)]);
    expect(await entryCommands(mastersOf(topology.inspect))).toBe(before);
    expect(embeddings.stats()).toEqual(embeddingStats({ hits: 6, writes: 1, nearHits: 5 }));
    expect(embeddings.nearCacheUsage()).toEqual({ entries: 1, bytes: ENTRY_BYTES, maxBytes: 1_000_000, serving: true });
  });

  it('leaves the client it was given with the listeners it had, once closed, however many caches came and went', async () => {
    const counts = () =>
      Object.fromEntries(client.eventNames().map((event) => [String(event), client.listenerCount(event)]));
    // the first cache on a client adds its one readiness tracker's listeners, which every later cache shares
    await serving(cache()).then((embeddings) => embeddings.close());
    const before = counts();
    for (let i = 0; i < 12; i++) await serving(cache()).then((embeddings) => embeddings.close());
    expect(counts()).toEqual(before);
  });

  it('reads from Redis what it does not hold, in one round trip, and keeps the hits for the next read', async () => {
    const embeddings = await serving(cache());
    await embeddings.cacheEmbeddings('u', [
      { text: 'a', embedding: vector(1) },
      { text: 'b', embedding: vector(2) },
    ]);
    expect(await embeddings.getCachedEmbedding('u', 'a')).toEqual(vector(1));
    expect(await embeddings.getCachedEmbeddings('u', ['a', 'b', 'c'])).toEqual([vector(1), vector(2), null]);
    const before = await entryCommands(mastersOf(topology.inspect));
    expect(await embeddings.getCachedEmbeddings('u', ['b', 'a'])).toEqual([vector(2), vector(1)]);
    expect(await entryCommands(mastersOf(topology.inspect))).toBe(before);
    expect(embeddings.stats()).toEqual(embeddingStats({ hits: 5, misses: 1, writes: 2, nearHits: 3 }));
  });

  it('getOrComputeEmbeddings takes what the near cache holds, reads the rest, and computes only the misses', async () => {
    const embeddings = await serving(cache());
    await embeddings.cacheEmbeddings('computer', [
      { text: 'a', embedding: vector(1) },
      { text: 'b', embedding: vector(2) },
    ]);
    await embeddings.getCachedEmbedding('computer', 'a');
    const computed: string[][] = [];
    const vectors = await embeddings.getOrComputeEmbeddings('computer', ['a', 'b', 'c', 'a'], async (missing) => {
      computed.push(missing);
      return missing.map(() => vector(3));
    });
    expect(vectors).toEqual([vector(1), vector(2), vector(3), vector(1)]);
    expect(computed).toEqual([['c']]);
    expect(embeddings.stats()).toEqual(embeddingStats({ hits: 4, misses: 1, writes: 3, nearHits: 2 }));
  });

  it('never holds more than maxBytes: it evicts its least recently used entries, and keeps none too large', async () => {
    const embeddings = await serving(cache({}, { maxBytes: 3 * ENTRY_BYTES + ENTRY_BYTES - 1 }));
    const texts = ['a', 'b', 'c', 'd', 'e'];
    await embeddings.cacheEmbeddings(
      'u',
      texts.map((text, i) => ({ text, embedding: vector(i) })),
    );
    for (const text of texts) {
      await embeddings.getCachedEmbedding('u', text);
      expect(embeddings.nearCacheUsage()!.bytes).toBeLessThanOrEqual(3 * ENTRY_BYTES + ENTRY_BYTES - 1);
    }
    expect(embeddings.nearCacheUsage()).toMatchObject({ entries: 3, bytes: 3 * ENTRY_BYTES });
    // c, d and e are held; a read of c makes it the most recent, so b's read from Redis evicts d
    await embeddings.getCachedEmbedding('u', 'c');
    await embeddings.getCachedEmbedding('u', 'b');
    const nearHits = embeddings.stats().nearHits;
    expect(await embeddings.getCachedEmbeddings('u', ['b', 'c', 'e'])).toEqual([vector(1), vector(2), vector(4)]);
    expect(embeddings.stats().nearHits).toBe(nearHits + 3);
    expect(await embeddings.getCachedEmbedding('u', 'd')).toEqual(vector(3));
    expect(embeddings.stats().nearHits).toBe(nearHits + 3);

    const tooLarge = 'x'.repeat(2 * ENTRY_BYTES);
    await embeddings.cacheEmbedding('u', tooLarge, vector(9));
    expect(await embeddings.getCachedEmbedding('u', tooLarge)).toEqual(vector(9));
    expect(embeddings.nearCacheUsage()).toMatchObject({ entries: 3, bytes: 3 * ENTRY_BYTES });
  });

  it('forgets what this process writes or clears before the call resolves, its own announcement not needed', async () => {
    const subscribers = subscribersOf(client);
    const embeddings = await serving(cache());
    await embeddings.cacheEmbeddings('writer', [
      { text: 'a', embedding: vector(1) },
      { text: 'b', embedding: vector(2) },
    ]);
    await embeddings.getCachedEmbeddings('writer', ['a', 'b']);
    expect(embeddings.nearCacheUsage()!.entries).toBe(2);
    // the announcements of the write and the clear wait in the subscriber's socket; the channel is live a while still
    const resume = pause(subscribers);
    try {
      expect(await embeddings.cacheEmbedding('writer', 'a', vector(10))).toBe(true);
      expect(await embeddings.getCachedEmbeddings('writer', ['a', 'b'])).toEqual([vector(10), vector(2)]);
      expect(await embeddings.clearUser('writer')).toBe(true);
      expect(await embeddings.getCachedEmbeddings('writer', ['a', 'b'])).toEqual([null, null]);
      expect(embeddings.stats().nearHits).toBe(1);
    } finally {
      resume();
    }
  });

  it("forgets at once what another client's clear, write over, or eviction changed", async () => {
    const embeddings = await serving(cache({ maxEntriesPerUser: 3 }, { touchIntervalMs: 60_000 }));
    const elsewhere = cache({ maxEntriesPerUser: 3 }, false, other);
    await elsewhere.cacheEmbeddings('announced', [
      { text: 'a', embedding: vector(1) },
      { text: 'b', embedding: vector(2) },
      { text: 'c', embedding: vector(3) },
    ]);
    await elsewhere.cacheEmbedding('bystander', 'a', vector(7));
    expect(await embeddings.getCachedEmbeddings('announced', ['a', 'b', 'c'])).toEqual([
      vector(1),
      vector(2),
      vector(3),
    ]);
    expect(await embeddings.getCachedEmbedding('bystander', 'a')).toEqual(vector(7));
    const nearHitsOf = async (texts: string[]) => {
      const before = embeddings.stats().nearHits;
      const vectors = await embeddings.getCachedEmbeddings('announced', texts);
      return { vectors, nearHits: embeddings.stats().nearHits - before };
    };

    // each announcement reaches every process at once; on a cluster it comes again from the other masters, through
    // the cluster bus, up to hundreds of ms later: what a read kept after the first copy may be forgotten again
    // (each test has users of its own, so that the late copies of another test's announcements miss them)
    const settle = () => sleep(100);

    // written over elsewhere: only that entry is forgotten
    await elsewhere.cacheEmbedding('announced', 'b', vector(20));
    await settle();
    expect(await nearHitsOf(['a', 'b', 'c'])).toEqual({ vectors: [vector(1), vector(20), vector(3)], nearHits: 2 });

    // evicted by another client's write: a, the least recently used in Redis, where the near hits do not count yet
    await elsewhere.cacheEmbedding('announced', 'd', vector(4));
    await settle();
    expect(await nearHitsOf(['a', 'b', 'c'])).toEqual({ vectors: [null, vector(20), vector(3)], nearHits: 2 });

    // cleared elsewhere: every entry of the user, and no other user's
    await elsewhere.clearUser('announced');
    await settle();
    expect(await nearHitsOf(['b', 'c'])).toEqual({ vectors: [null, null], nearHits: 0 });
    expect(await embeddings.getCachedEmbedding('bystander', 'a')).toEqual(vector(7));
    expect(embeddings.stats().nearHits).toBe(5);
  });

  it("never serves an idle entry past the TTL Redis gives it: the cache's, or its own from its write", async () => {
    const short = await serving(cache({ ttlSeconds: 1 }, { touchIntervalMs: 60_000 }));
    const long = await serving(cache({ ttlSeconds: 60 }, { touchIntervalMs: 60_000 }));
    await short.cacheEmbedding('idle-cache-ttl', 'a', vector(1));
    await long.cacheEmbedding('idle-own-ttl', 'a', vector(2), { ttlSeconds: 1 });
    await long.cacheEmbedding('idle-own-ttl', 'b', vector(3));
    const read = performance.now();
    expect(await short.getCachedEmbedding('idle-cache-ttl', 'a')).toEqual(vector(1));
    expect(await long.getCachedEmbeddings('idle-own-ttl', ['a', 'b'])).toEqual([vector(2), vector(3)]);
    await sleep(1050 - (performance.now() - read));
    expect(await short.getCachedEmbedding('idle-cache-ttl', 'a')).toBeNull();
    expect(await long.getCachedEmbeddings('idle-own-ttl', ['a', 'b'])).toEqual([null, vector(3)]);
    // b, of the cache's 60 s, from memory
    expect(short.stats().nearHits + long.stats().nearHits).toBe(1);
  });

  it('keeps nothing from a read under way when another client writes over what it read', async () => {
    const embeddings = await serving(cache());
    const elsewhere = cache({}, false, other);
    await elsewhere.cacheEmbedding('fenced', 'a', vector(1));
    // the read's reply waits in the socket while the write over it runs and is announced
    const resume = pause(mastersOf(client));
    let reading: Promise<number[] | null>;
    try {
      reading = embeddings.getCachedEmbedding('fenced', 'a');
      await sleep(50);
      expect(await elsewhere.cacheEmbedding('fenced', 'a', vector(2))).toBe(true);
      await sleep(50);
    } finally {
      resume();
    }
    expect(await reading).toEqual(vector(1));
    expect(await embeddings.getCachedEmbedding('fenced', 'a')).toEqual(vector(2));
    expect(embeddings.stats().nearHits).toBe(0);
  });

  it('keeps a hot entry of a short TTL alive in Redis with its touches, serving it from memory meanwhile', async () => {
    const embeddings = await serving(cache({ ttlSeconds: 60 }));
    const keys = embeddingKeys('u');
    await embeddings.cacheEmbedding('u', 'hot', vector(1), { ttlSeconds: 1 });
    const started = performance.now();
    let reads = 0;
    while (performance.now() - started < 3000) {
      expect(await embeddings.getCachedEmbedding('u', 'hot')).toEqual(vector(1));
      reads++;
      await sleep(20);
    }
    const { nearHits } = embeddings.stats();
    expect(nearHits).toBeGreaterThan(reads / 2);
    expect(nearHits).toBeLessThan(reads);
    // its own TTL still: the deadline one second after the last access
    const field = embeddingField('default', 'float32', 'hot');
    const [lastAccess, deadline] = await Promise.all([
      topology.inspect.zscore(keys.lru, field),
      topology.inspect.zscore(keys.deadlines, field),
    ]);
    expect(Number(deadline) - Number(lastAccess)).toBe(1_000_000);
  });

  it('refreshes the hits in Redis with at most one touch per entry per interval, one script per user', async () => {
    const interval = 400;
    const embeddings = await serving(cache({}, { touchIntervalMs: interval }));
    const users = { toucher: ['a', 'b', 'c', 'd'], other: ['e', 'f'] };
    for (const [user, texts] of Object.entries(users)) {
      await embeddings.cacheEmbeddings(
        user,
        texts.map((text, i) => ({ text, embedding: vector(i) })),
      );
      await embeddings.getCachedEmbeddings(user, texts);
    }
    const lastAccess = async (user: string, text: string) =>
      Number(await topology.inspect.zscore(embeddingKeys(user).lru, embeddingField('default', 'float32', text)));
    const before = await entryCommands(mastersOf(topology.inspect));
    const accessedBefore = await lastAccess('toucher', 'a');
    const started = performance.now();
    let hits = 0;
    while (performance.now() - started < 2000) {
      for (const [user, texts] of Object.entries(users)) {
        for (const vectorOf of await embeddings.getCachedEmbeddings(user, texts)) if (vectorOf) hits++;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    await sleep(200);
    const touches = (await entryCommands(mastersOf(topology.inspect))) - before;
    // 2.2 s at most one touch per entry per interval, batched: at most 6 scripts per user, never one per entry
    expect(hits).toBeGreaterThan(1000);
    expect(touches).toBeGreaterThanOrEqual(2 * 3);
    expect(touches).toBeLessThanOrEqual(2 * Math.ceil(2200 / interval));
    expect(embeddings.stats().nearHits).toBe(hits);
    expect(await lastAccess('toucher', 'a')).toBeGreaterThan(accessedBefore);
  });
});
