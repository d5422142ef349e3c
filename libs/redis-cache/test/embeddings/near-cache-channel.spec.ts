import { setTimeout as sleep } from 'node:timers/promises';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Cluster, Redis } from 'ioredis';
import { EmbeddingCacheService, RedisCacheModule, createCacheRedis } from '@wbot/redis-cache';
import { embeddingKeys } from '../../src/keys';
import { until } from '../../../../test/support/until';
import { mastersOf, pause, serving, subscriberCounts, subscribersOf } from '../support/near-cache';
import { TOPOLOGIES, startTopology, type Topology } from '../support/topology';

/**
 * The near cache's invalidation channel: while it is down, or silent, the near
 * cache serves nothing; it serves again only once subscribed anew, having
 * forgotten everything it held, since it may have missed an announcement.
 */

const DEADLINE_MS = 5000;

describe.each(TOPOLOGIES)('the near cache’s channel, on %s', (name) => {
  let topology: Topology;
  let client: Redis | Cluster;
  let warnings: string[];
  const opened: EmbeddingCacheService[] = [];

  function cache(): EmbeddingCacheService {
    const created = new EmbeddingCacheService(
      client,
      { nearCache: { maxBytes: 1_000_000 } },
      { deadlineMs: DEADLINE_MS, logger: { warn: (line) => warnings.push(line) } },
    );
    opened.push(created);
    return created;
  }

  /** The near hits of one read of the user's `texts`, which must all be found. */
  async function nearHitsOfRead(embeddings: EmbeddingCacheService, texts: string[]): Promise<number> {
    const before = embeddings.stats().nearHits;
    const vectors = await embeddings.getCachedEmbeddings('u', texts);
    expect(vectors.every((vector) => vector !== null)).toBe(true);
    return embeddings.stats().nearHits - before;
  }

  beforeAll(async () => {
    topology = await startTopology(name);
    client = await topology.connect({ commandTimeout: DEADLINE_MS, disconnectTimeout: 50 });
  });

  afterAll(async () => {
    client.disconnect();
    await topology.stop();
  });

  beforeEach(async () => {
    warnings = [];
    await topology.flushall();
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await Promise.all(opened.splice(0).map((embeddings) => embeddings.close()));
  });

  it('subscribes one connection per master, which close() closes', async () => {
    const masters = mastersOf(topology.inspect);
    const embeddings = await serving(cache());
    expect(await subscriberCounts(masters)).toEqual(masters.map(() => 1));
    await embeddings.close();
    expect(await subscriberCounts(masters)).toEqual(masters.map(() => 0));
    expect(embeddings.nearCacheUsage()).toMatchObject({ entries: 0, serving: false });
  });

  it('forgets everything when a subscription is lost, and serves again only once subscribed anew', async () => {
    const embeddings = await serving(cache());
    await embeddings.cacheEmbeddings('u', [
      { text: 'a', embedding: [1] },
      { text: 'b', embedding: [2] },
    ]);
    await embeddings.getCachedEmbeddings('u', ['a', 'b']);
    expect(await nearHitsOfRead(embeddings, ['a', 'b'])).toBe(2);
    // one master's subscriber is enough: what it missed may concern any user of that master
    await mastersOf(topology.inspect)[0].call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await until(() => embeddings.nearCacheUsage()!.entries === 0, 2000);
    await serving(embeddings);
    expect(await nearHitsOfRead(embeddings, ['a', 'b'])).toBe(0);
    expect(await nearHitsOfRead(embeddings, ['a', 'b'])).toBe(2);
    expect(embeddings.stats().fallbacks).toBe(0);
  });

  it('stops serving within the bound when the channel goes silent, and serves again when it answers', async () => {
    const subscribers = subscribersOf(client);
    const embeddings = await serving(cache());
    await embeddings.cacheEmbedding('u', 'a', [1]);
    await embeddings.getCachedEmbedding('u', 'a');
    // nothing reaches the subscriber any more, nor does it know: no close, no error
    const resume = pause(subscribers);
    const silentSince = performance.now();
    let lastNearHit = silentSince;
    try {
      while (performance.now() - silentSince < 1500) {
        if ((await nearHitsOfRead(embeddings, ['a'])) === 1) lastNearHit = performance.now();
        await sleep(10);
      }
    } finally {
      resume();
    }
    expect(lastNearHit - silentSince).toBeGreaterThan(0);
    expect(lastNearHit - silentSince).toBeLessThanOrEqual(1000);
    // it missed nothing: once the PINGs are answered it serves what it holds, with no resync
    await serving(embeddings);
    expect(embeddings.nearCacheUsage()!.entries).toBe(1);
    expect(await nearHitsOfRead(embeddings, ['a'])).toBe(1);
  });
});

describe('the near cache’s channel, on a single node', () => {
  let topology: Topology;
  let client: Redis | Cluster;

  beforeAll(async () => {
    topology = await startTopology('a single node');
    client = await topology.connect({ commandTimeout: DEADLINE_MS, disconnectTimeout: 50 });
  });

  afterAll(async () => {
    client.disconnect();
    await topology.stop();
  });

  it('reads the announcements of a client with a keyPrefix, whose keys carry it', async () => {
    const url = (topology.connection as { url: string }).url;
    const prefixed = createCacheRedis(url, { keyPrefix: 'app:' });
    const elsewhere = createCacheRedis(url, { keyPrefix: 'app:' });
    const embeddings = new EmbeddingCacheService(prefixed, { nearCache: { maxBytes: 1_000_000 } });
    try {
      await serving(embeddings);
      await embeddings.cacheEmbedding('prefixed', 'a', [1]);
      await embeddings.getCachedEmbedding('prefixed', 'a');
      expect(await (topology.inspect as Redis).exists('app:' + embeddingKeys('prefixed').vectors)).toBe(1);
      expect(await new EmbeddingCacheService(elsewhere).clearUser('prefixed')).toBe(true);
      await until(() => embeddings.nearCacheUsage()!.entries === 0, 1000);
      expect(await embeddings.getCachedEmbedding('prefixed', 'a')).toBeNull();
    } finally {
      await embeddings.close();
      prefixed.disconnect();
      elsewhere.disconnect();
    }
  });

  it('subscribes and serves on a client with autopipelining on', async () => {
    const url = (topology.connection as { url: string }).url;
    const pipelining = createCacheRedis(url, { enableAutoPipelining: true });
    const embeddings = new EmbeddingCacheService(pipelining, { nearCache: { maxBytes: 1_000_000 } });
    try {
      await serving(embeddings);
      await embeddings.cacheEmbedding('pipelined', 'a', [1]);
      await embeddings.getCachedEmbedding('pipelined', 'a');
      // serving still after a few heartbeats
      await sleep(600);
      expect(await embeddings.getCachedEmbedding('pipelined', 'a')).toEqual([1]);
      expect(embeddings.stats().nearHits).toBe(1);
    } finally {
      await embeddings.close();
      pipelining.disconnect();
    }
  });

  it('serves nothing while Redis refuses the subscription, says why, and serves once it is allowed', async () => {
    const admin = topology.inspect as Redis;
    const warnings: string[] = [];
    const embeddings = new EmbeddingCacheService(
      client,
      { nearCache: { maxBytes: 1_000_000 } },
      { deadlineMs: DEADLINE_MS, logger: { warn: (line) => warnings.push(line) } },
    );
    try {
      await serving(embeddings);
      await embeddings.cacheEmbedding('u', 'a', [1]);
      await admin.call('ACL', 'SETUSER', 'default', '-subscribe');
      await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      await until(() => warnings.length === 1, 2000);
      expect(warnings[0]).toMatch(/^Redis connection "local" refused the near cache's subscription, .*NOPERM/);
      for (let i = 0; i < 20; i++) {
        expect(await embeddings.getCachedEmbedding('u', 'a')).toEqual([1]);
        await sleep(50);
      }
      expect(embeddings.stats()).toMatchObject({ hits: 20, nearHits: 0, fallbacks: 0 });
      expect(embeddings.nearCacheUsage()).toMatchObject({ entries: 0, serving: false });
      await admin.call('ACL', 'SETUSER', 'default', '+subscribe');
      await serving(embeddings, 3000);
      await embeddings.getCachedEmbedding('u', 'a');
      expect(await embeddings.getCachedEmbedding('u', 'a')).toEqual([1]);
      expect(embeddings.stats().nearHits).toBe(1);
    } finally {
      await admin.call('ACL', 'SETUSER', 'default', '+subscribe');
      await embeddings.close();
    }
  });
});

describe('the near cache in the Nest module', () => {
  let topology: Topology;
  let app: INestApplicationContext | undefined;

  beforeAll(async () => {
    topology = await startTopology('a single node');
  });

  afterAll(async () => {
    await app?.close();
    await topology.stop();
  });

  it('is on with embeddings.nearCache, and its connection closes with the app', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        RedisCacheModule.forRoot({
          connections: { local: topology.connection, shared: topology.connection },
          embeddings: { nearCache: { maxBytes: 10_000 } },
        }),
      ],
    }).compile();
    app = await moduleRef.init();
    const embeddings = await serving(app.get(EmbeddingCacheService));
    expect(embeddings.nearCacheUsage()).toMatchObject({ maxBytes: 10_000, serving: true });
    expect(await subscriberCounts([topology.inspect as Redis])).toEqual([1]);
    await app.close();
    app = undefined;
    expect(await subscriberCounts([topology.inspect as Redis])).toEqual([0]);
  });
});
