import type { Redis } from 'ioredis';
import {
  DEFAULT_DEADLINE_MS,
  EmbeddingCacheService,
  MessageCacheClient,
  RedisCacheInputError,
  type CachedMessage,
} from '@wbot/redis-cache';
import { OpossumConnectionBreaker } from '../../src/resilience/opossum-breaker';
import { CIRCUIT_BREAKER_DEFAULTS, MAX_UNSETTLED_CONVERSATIONS } from '../../src/options/defaults';
import { conversationKeys } from '../../src/keys';
import { connectedCacheRedis, inspector } from '../../../../test/support/redis-client';
import { RedisServer } from '../../../../test/support/redis-server';
import { messageStats } from '../../../../test/support/cache-stats';
import { until } from '../../../../test/support/until';

/**
 * After an outage: every call stays bounded, however many writes failed; stale
 * copies are cleared off the caller's path and never served; single-flight
 * never serves data loaded before a write and never hangs on a stuck loader.
 */
let server: RedisServer;
let inspect: Redis;
const opened: Redis[] = [];
const breakers: OpossumConnectionBreaker[] = [];
const silent = { warn: () => undefined };

beforeAll(async () => {
  server = await RedisServer.start();
  inspect = await inspector(server.url);
});

afterAll(async () => {
  inspect.disconnect();
  await server.stop();
});

afterEach(async () => {
  breakers.splice(0).forEach((breaker) => breaker.shutdown());
  opened.splice(0).forEach((client) => client.disconnect());
  await inspect.flushall();
});

/** A client, its breaker and a message cache, wired as the module wires them. */
async function open(options: ConstructorParameters<typeof MessageCacheClient>[1] = {}) {
  const client = await connectedCacheRedis(server.url);
  opened.push(client);
  const breaker = new OpossumConnectionBreaker('shared', { ...CIRCUIT_BREAKER_DEFAULTS });
  breaker.follow(client);
  breakers.push(breaker);
  return { client, breaker, cache: new MessageCacheClient(client, options, { breaker, logger: silent }) };
}

async function scriptsRun(on: Redis = inspect): Promise<number> {
  const stats = await on.info('commandstats');
  const calls = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
  return calls('evalsha') + calls('eval');
}

const message = (id: string): CachedMessage => ({ id, role: 'user', content: `message ${id}` });

describe('the first calls after an outage that left more failed writes than the cap', () => {
  const STALE = 10;
  const FAILED = MAX_UNSETTLED_CONVERSATIONS + STALE;

  /** Its own server, persisting every write, so that the cached copies outlive the outage as they would in production. */
  let durable: RedisServer;
  let durableInspect: Redis;
  beforeAll(async () => {
    durable = await RedisServer.start(['--appendonly', 'yes', '--appendfsync', 'always']);
    durableInspect = await inspector(durable.url);
  });
  afterAll(async () => {
    durableInspect.disconnect();
    await durable.stop();
  });

  it('stay within 2 × the deadline, never serve a stale copy, and settle in batches, not a script per call', async () => {
    const client = await connectedCacheRedis(durable.url);
    opened.push(client);
    const breaker = new OpossumConnectionBreaker('shared', { ...CIRCUIT_BREAKER_DEFAULTS });
    breaker.follow(client);
    breakers.push(breaker);
    const cache = new MessageCacheClient(client, {}, { breaker, logger: silent });
    const stale = Array.from({ length: STALE }, (_, i) => `stale-${i}`);
    for (const id of stale) expect(await cache.cacheMessages(id, [message('a')])).toBe(true);

    await durable.kill();
    const appends = await Promise.all(
      Array.from({ length: FAILED }, (_, i) =>
        cache.appendMessages(i < STALE ? stale[i] : `other-${i}`, [message('b')]),
      ),
    );
    expect(appends.filter((appended) => appended).length).toBe(0);
    const scriptsBefore = 0; // a restarted server counts from zero
    await durable.restart();
    await until(() => client.status === 'ready', 5000);

    // 8 concurrent readers: the stale conversations (the oldest marks, past the cap) and others
    const slowest: number[] = [];
    const reads = await Promise.all(
      Array.from({ length: 8 }, async (_, r) => {
        const values: (CachedMessage[] | null)[] = [];
        for (let i = 0; i < 20; i++) {
          const started = performance.now();
          values.push(
            await cache.getCachedMessages(i % 2 === 0 ? stale[(r + i) % STALE] : `other-${STALE + r * 20 + i}`),
          );
          slowest.push(performance.now() - started);
        }
        return values;
      }),
    );
    expect(Math.max(...slowest)).toBeLessThanOrEqual(2 * DEFAULT_DEADLINE_MS);
    expect(reads.flat().filter((value) => value !== null)).toEqual([]);

    // the settling clears every stale copy in the background, the overflowed bucket whole
    await until(
      async () => (await durableInspect.exists(...stale.map((id) => conversationKeys(id, 0).messages))) === 0,
      5000,
    );
    // nothing left to settle (the client's own record, read only here)
    await until(() => (cache as unknown as { unsettled: { empty: boolean } }).unsettled.empty, 5000);
    const scripts = (await scriptsRun(durableInspect)) - scriptsBefore;
    // each of the 160 reads is one script at most (none while its conversation is still unsettled: a local miss),
    // and the settling a few batches: nowhere near one script per failed write
    expect(scripts).toBeLessThanOrEqual(160 + Math.ceil(FAILED / 500) + 1);
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 160, evictions: 0, dropped: 0, fallbacks: FAILED });
    // the stale copies survived the restart (the server persists), and the settling cleared each, counted
    expect(cache.stats().clears).toBe(STALE);

    // settled: a fill and a read work again, for a stale conversation too
    expect(await cache.cacheMessages(stale[0], [message('a'), message('b')])).toBe(true);
    expect(await cache.getCachedMessages(stale[0])).toEqual([message('a'), message('b')]);
  }, 60_000);
});

describe('single-flight', () => {
  it('with Redis down, a call made after a write does not join a load begun before it', async () => {
    const { cache } = await open();
    const database = [message('1')];
    let release!: () => void;
    const before = cache.getOrLoadMessages('c', async () => {
      const snapshot = [...database];
      await new Promise<void>((resolve) => (release = resolve));
      return snapshot;
    });
    await until(() => release !== undefined);
    await server.kill();
    database.push(message('2'));
    expect(await cache.appendMessages('c', [message('2')])).toBe(false);
    const loader = jest.fn(async () => [...database]);
    const after = cache.getOrLoadMessages('c', loader);
    release();
    expect(await before).toEqual([message('1')]);
    expect(await after).toEqual([message('1'), message('2')]);
    expect(loader).toHaveBeenCalledTimes(1);
    await server.restart();
  });

  it('a loader that never settles holds a joiner no longer than loadTimeoutMs, then it loads for itself', async () => {
    const { cache } = await open({ loadTimeoutMs: 200 });
    void cache.getOrLoadMessages('stuck', () => new Promise<CachedMessage[]>(() => undefined));
    const started = performance.now();
    expect(await cache.getOrLoadMessages('stuck', async () => [message('1')])).toEqual([message('1')]);
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(190);
    expect(waited).toBeLessThan(200 + 2 * DEFAULT_DEADLINE_MS);
    // past the bound, a new caller does not join at all
    const later = performance.now();
    expect(await cache.getOrLoadMessages('stuck', async () => [message('2')])).toEqual([message('2')]);
    expect(performance.now() - later).toBeLessThan(DEFAULT_DEADLINE_MS);
  });

  it('a compute that never settles holds a joiner no longer than computeTimeoutMs, then it computes for itself', async () => {
    const client = await connectedCacheRedis(server.url);
    opened.push(client);
    const embeddings = new EmbeddingCacheService(client, { computeTimeoutMs: 200 }, { logger: silent });
    void embeddings.getOrComputeEmbeddings('u', ['t'], () => new Promise<number[][]>(() => undefined));
    const started = performance.now();
    expect(await embeddings.getOrComputeEmbeddings('u', ['t'], async () => [[1, 2]])).toEqual([[1, 2]]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(await embeddings.getCachedEmbedding('u', 't')).toEqual([1, 2]);
  });
});

describe('bad input rejects with RedisCacheInputError naming the argument, on a hit as on a miss', () => {
  it.each([
    ['null options on a hit', (cache: MessageCacheClient) => cache.getCachedMessages('hit', null as never), 'options'],
    ['string options', (cache: MessageCacheClient) => cache.getCachedMessages('hit', 'last' as never), 'options'],
    [
      'a message nested 20,000 deep',
      (cache: MessageCacheClient) => {
        let deep: Record<string, unknown> = {};
        const root = deep;
        for (let i = 0; i < 20_000; i++) deep = (deep.a = {}) as Record<string, unknown>;
        return cache.appendMessages('hit', [root]);
      },
      `newMessages[0]${'.a'.repeat(64)}`,
    ],
    [
      'more bytes in one call than maxCallBytes',
      (cache: MessageCacheClient) =>
        cache.cacheMessages(
          'hit',
          Array.from({ length: 3 }, (_, i) => ({ id: `${i}`, content: 'x'.repeat(400) })),
        ),
      'messages[2]',
    ],
  ])('%s', async (_, call, argument) => {
    const { cache } = await open({ maxCallBytes: 1000 });
    expect(await cache.cacheMessages('hit', [message('a')])).toBe(true);
    const scripts = await scriptsRun();
    await expect(call(cache)).rejects.toThrow(RedisCacheInputError);
    await expect(call(cache)).rejects.toMatchObject({ argument });
    expect(await scriptsRun()).toBe(scripts);
    expect(await cache.getCachedMessages('hit')).toEqual([message('a')]);
  });

  it('null options to the embedding cache on a hit, and a batch over maxCallBytes', async () => {
    const client = await connectedCacheRedis(server.url);
    opened.push(client);
    const embeddings = new EmbeddingCacheService(client, { maxCallBytes: 64 }, { logger: silent });
    expect(await embeddings.cacheEmbedding('u', 't', [1, 2])).toBe(true);
    await expect(embeddings.getCachedEmbedding('u', 't', null as never)).rejects.toMatchObject({
      name: 'RedisCacheInputError',
      argument: 'options',
    });
    const entries = Array.from({ length: 3 }, (_, i) => ({ text: `t${i}`, embedding: Array(8).fill(i) as number[] }));
    await expect(embeddings.cacheEmbeddings('u', entries)).rejects.toMatchObject({
      name: 'RedisCacheInputError',
      argument: 'entries[2]',
    });
  });
});

describe('counters that count', () => {
  it('counts clears apart from evictions, only for conversations that were cached, and drops by their number', async () => {
    const { cache } = await open({ maxCachedMessages: 4 });
    for (const id of ['never-1', 'never-2', 'never-3']) expect(await cache.clearConversation(id)).toBe(true);
    expect(cache.stats()).toEqual(messageStats({}));
    expect(await cache.cacheMessages('a', [message('1'), message('2')])).toBe(true);
    expect(await cache.clearConversation('a')).toBe(true);
    expect(cache.stats()).toEqual(messageStats({ fills: 1, clears: 1 }));
    expect(await cache.cacheMessages('b', [message('1'), message('2')])).toBe(true);
    expect(await cache.cacheMessages('c', [message('1'), message('2')])).toBe(true);
    expect(await cache.cacheMessages('d', [message('1')])).toBe(true); // evicts b
    expect(cache.stats()).toEqual(messageStats({ fills: 4, clears: 1, evictions: 1 }));
    expect(await cache.appendMessages('c', [message('3'), message('4'), message('5')])).toBe(false); // c alone > 4
    expect(cache.stats()).toEqual(messageStats({ fills: 4, clears: 1, evictions: 1, dropped: 1 }));
  });
});
