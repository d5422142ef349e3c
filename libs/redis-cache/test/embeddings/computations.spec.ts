import type { Redis } from 'ioredis';
import { EmbeddingCacheService, createCacheRedis, type EmbeddingCacheOptions } from '@wbot/redis-cache';
import { embeddingKeys } from '../../src/keys';
import { EMBEDDING_SCRIPTS } from '../../src/embeddings/embedding-scripts';
import { collectedAfter } from '../../../../test/support/garbage';
import { inspector, waitUntilReady } from '../../../../test/support/redis-client';
import { RedisServer } from '../../../../test/support/redis-server';
import { ServerMonitor } from '../../../../test/support/server-monitor';
import { embeddingStats } from '../../../../test/support/cache-stats';
import { gate } from '../support/gate';

/**
 * What `getOrComputeEmbeddings` does once `compute` has answered: it returns the
 * vectors whatever their size, writes them in calls within `maxCallBytes`, writes
 * nothing after a `clearUser` that came after its read (in any process), and
 * forgets a computation that never answers.
 */

/** A generous deadline: these tests prove behaviour, and a slow machine must not turn a call into a fallback. */
const RUNTIME_DEADLINE_MS = 5000;

let server: RedisServer;
let client: Redis;
let inspect: Redis;
const opened: Redis[] = [];

function connect(): Redis {
  const connection = createCacheRedis(server.url, { commandTimeout: RUNTIME_DEADLINE_MS, disconnectTimeout: 50 });
  opened.push(connection);
  return connection;
}

function service(options: EmbeddingCacheOptions = {}, redis: Redis = client): EmbeddingCacheService {
  return new EmbeddingCacheService(redis, options, { deadlineMs: RUNTIME_DEADLINE_MS, logger: { warn: () => {} } });
}

/** A vector of `dimensions` exact float32 elements, different for every seed. */
function vector(seed: number, dimensions = 4): number[] {
  return Array.from({ length: dimensions }, (_, i) => seed + i / 4);
}

const texts = (count: number, prefix = 't'): string[] => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

beforeAll(async () => {
  server = await RedisServer.start();
  client = connect();
  await waitUntilReady(client);
  inspect = await inspector(server.url);
});

afterAll(async () => {
  for (const connection of opened) connection.disconnect();
  inspect.disconnect();
  await server.stop();
});

beforeEach(async () => {
  await inspect.flushall();
});

describe('vectors past maxCallBytes', () => {
  it('returns them all and caches them in calls that each fit: 10 vectors of 16 bytes with maxCallBytes 64 go as 4, 4, 2', async () => {
    const cache = service({ maxCallBytes: 64 });
    const vectors = texts(10).map((_, i) => vector(i));
    const monitor = await ServerMonitor.attach(inspect);
    try {
      expect(await cache.getOrComputeEmbeddings('u', texts(10), async () => vectors)).toEqual(vectors);
      await monitor.caughtUp(client);
      const writes = monitor.scriptRuns().filter((run) => run.script === 'embeddingSet');
      // each write: numkeys, 4 keys, then the TTL, maxEntriesPerUser, the entries' TTL and since, then the pairs
      expect(writes.map((run) => (run.args.length - 9) / 2)).toEqual([4, 4, 2]);
    } finally {
      monitor.stop();
    }
    expect(await cache.getCachedEmbeddings('u', texts(10))).toEqual(vectors);
    expect(cache.stats()).toEqual(embeddingStats({ misses: 10, writes: 10, hits: 10 }));
  });

  it('returns a vector larger than maxCallBytes alone without caching it, and caches the others', async () => {
    const cache = service({ maxCallBytes: 32 });
    const vectors = [vector(1), vector(2, 16), vector(3)];
    expect(await cache.getOrComputeEmbeddings('u', ['a', 'big', 'c'], async () => vectors)).toEqual(vectors);
    expect(await cache.getCachedEmbeddings('u', ['a', 'big', 'c'])).toEqual([vectors[0], null, vectors[2]]);
  });
});

describe('clearUser and the computations under way', () => {
  /** A compute that reports when it starts and answers once `release` opens. */
  function gatedCompute(release: Promise<void>) {
    const started = gate();
    const compute = jest.fn(async (missing: string[]) => {
      started.open();
      await release;
      return missing.map((_, i) => vector(i));
    });
    return { compute, started: started.opened };
  }

  it.each([
    ['in this process', () => service()],
    ['in another process, on its own connection', () => service({}, connect())],
  ])(
    'writes nothing of a computation begun before a clearUser %s, and still returns its vectors',
    async (_where, clearer) => {
      const cache = service();
      const release = gate();
      const { compute, started } = gatedCompute(release.opened);
      const computing = cache.getOrComputeEmbeddings('u', ['a', 'b'], compute);
      await started;
      expect(await clearer().clearUser('u')).toBe(true);
      release.open();
      expect(await computing).toEqual([vector(0), vector(1)]);
      const { vectors, lru } = embeddingKeys('u');
      expect(await inspect.exists(vectors, lru)).toBe(0);
      expect(cache.stats()).toEqual(embeddingStats({ misses: 2 }));
      // the next call computes afresh, and caches
      expect(await cache.getOrComputeEmbeddings('u', ['a', 'b'], compute)).toEqual([vector(0), vector(1)]);
      expect(await cache.getCachedEmbeddings('u', ['a', 'b'])).toEqual([vector(0), vector(1)]);
    },
  );

  it('fences every part of a computation written in parts', async () => {
    const cache = service({ maxCallBytes: 16 });
    const release = gate();
    const { compute, started } = gatedCompute(release.opened);
    const computing = cache.getOrComputeEmbeddings('u', texts(3), compute);
    await started;
    expect(await service({}, connect()).clearUser('u')).toBe(true);
    release.open();
    expect(await computing).toEqual([vector(0), vector(1), vector(2)]);
    expect(await inspect.hlen(embeddingKeys('u').vectors)).toBe(0);
  });

  it("caches a computation begun after the clear, and fences only the cleared user's", async () => {
    const cache = service();
    const release = gate();
    const { compute, started } = gatedCompute(release.opened);
    const other = cache.getOrComputeEmbeddings('other', ['a'], compute);
    await started;
    expect(await cache.clearUser('u')).toBe(true);
    expect(await cache.getOrComputeEmbeddings('u', ['b'], async () => [vector(7)])).toEqual([vector(7)]);
    release.open();
    expect(await other).toEqual([vector(0)]);
    expect(await cache.getCachedEmbeddings('u', ['b'])).toEqual([vector(7)]);
    expect(await cache.getCachedEmbeddings('other', ['a'])).toEqual([vector(0)]);
  });

  it('records the clear for the TTL alone, in a key holding a time, and leaves plain writes unfenced', async () => {
    const cache = service({ ttlSeconds: 60 });
    const [seconds] = await inspect.time();
    expect(await cache.clearUser('u')).toBe(true);
    const { cleared } = embeddingKeys('u');
    expect(Number(await inspect.get(cleared)) / 1e6).toBeGreaterThanOrEqual(Number(seconds));
    expect(await inspect.pttl(cleared)).toBeGreaterThan(59_000);
    expect(await inspect.pttl(cleared)).toBeLessThanOrEqual(60_000);
    expect(await cache.cacheEmbedding('u', 'a', vector(1))).toBe(true);
    expect(await cache.getCachedEmbedding('u', 'a')).toEqual(vector(1));
  });

  it('keeps the scripts as another language runs them from docs/key-schema.md: set and clear on three keys, unfenced', async () => {
    const { vectors, lru, deadlines, cleared } = embeddingKeys('u');
    await inspect.eval(EMBEDDING_SCRIPTS.set.lua, 3, vectors, lru, deadlines, 60_000, 10, 60_000, 'f', 'bytes');
    expect(await inspect.hgetall(vectors)).toEqual({ f: 'bytes' });
    expect(await inspect.eval(EMBEDDING_SCRIPTS.clear.lua, 3, vectors, lru, deadlines, 60_000)).toBe(2);
    expect(await inspect.exists(vectors, lru, cleared)).toBe(0);
  });
});

describe('a computation that never answers', () => {
  it('is forgotten computeTimeoutMs after it began: nothing of the service keeps its caller any more', async () => {
    const cache = service({ computeTimeoutMs: 50 });
    // not a jest.fn, which would keep what it returned, and through it the caller
    let calls = 0;
    const hung = () => (calls++, new Promise<number[][]>(() => {}));
    expect(await collectedAfter(() => cache.getOrComputeEmbeddings('u', ['a'], hung), 100)).toBe(true);
    expect(calls).toBe(1);
    // and the next call computes for itself
    expect(await cache.getOrComputeEmbeddings('u', ['a'], async () => [vector(1)])).toEqual([vector(1)]);
  });
});
