import type { Cluster, Redis } from 'ioredis';
import {
  RedisCacheInputError,
  ResponseCacheService,
  createCacheRedis,
  type ResponseCacheOptions,
  type ResponseStreamPolicy,
} from '@wbot/redis-cache';
import { responseKeys } from '../../src/keys';
import { LIVE_STREAM_TTL_MS, RESPONSE_FENCE_TTL_MS } from '../../src/options/defaults';
import { waitUntilReady } from '../../../../test/support/redis-client';
import { RedisServer, freePort } from '../../../../test/support/redis-server';
import { until } from '../../../../test/support/until';
import { TOPOLOGIES, startTopology, type Topology } from '../support/topology';

/**
 * The response cache itself, framework-free, on a single node and on a three-master cluster. Two services on
 * one client stand for two processes: each has its own flights, so the second follows the first through Redis.
 * The AI SDK middleware's specs (test/ai-sdk/) cover the calls as an app makes them, and real processes.
 */
const DEADLINE_MS = 5000;

/** A stream's parts here: deltas, then an end; `fail` is a failure. */
type Part = { t: 'delta'; v: string } | { t: 'end' } | { t: 'fail' } | { t: 'followFailed'; name: string };
const POLICY: ResponseStreamPolicy<Part> = {
  classify: (part) => (part.t === 'end' ? 'finish' : part.t === 'fail' ? 'failure' : 'part'),
  failurePart: (error) => ({ t: 'followFailed', name: error.name }),
};
const ANSWER: Part[] = [{ t: 'delta', v: 'Hello' }, { t: 'delta', v: ', world' }, { t: 'end' }];

/** A stream of `parts` that waits for `held` before the one at `at`. */
function streamOf(parts: Part[], held?: Promise<void>, at = 0): ReadableStream<Part> {
  let next = 0;
  return new ReadableStream<Part>({
    async pull(controller) {
      if (next === at) await held;
      controller.enqueue(parts[next++]);
      if (next === parts.length) controller.close();
    },
  });
}

async function partsOf<P>(stream: ReadableStream<P>): Promise<P[]> {
  const parts: P[] = [];
  for await (const part of stream as unknown as AsyncIterable<P>) parts.push(part);
  return parts;
}

function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe.each(TOPOLOGIES)('ResponseCacheService on %s', (name) => {
  let topology: Topology;
  let client: Redis | Cluster;
  const services: ResponseCacheService[] = [];

  function responseCache(options: ResponseCacheOptions = {}): ResponseCacheService {
    const service = new ResponseCacheService(client, options, {
      deadlineMs: DEADLINE_MS,
      logger: { warn: () => undefined },
    });
    services.push(service);
    return service;
  }

  beforeAll(async () => {
    topology = await startTopology(name);
    client = await topology.connect({ commandTimeout: DEADLINE_MS, disconnectTimeout: 50 });
  }, 60_000);

  afterAll(async () => {
    client.disconnect();
    await topology.stop();
  });

  beforeEach(() => topology.flushall());

  afterEach(async () => {
    await Promise.all(services.splice(0).map((service) => service.close()));
  });

  describe('stored responses', () => {
    it("reads back what cacheResponse stored, with its Dates and Uint8Arrays revived and an object's own $wbot key kept", async () => {
      const cache = responseCache();
      const value = {
        at: new Date('2026-03-04T05:06:07.089Z'),
        image: new Uint8Array([0, 255, 7]),
        $wbot: { v: 'mine' },
      };
      expect(await cache.getCachedResponse('alice', 'k')).toBeNull();
      expect(await cache.cacheResponse('alice', 'k', value)).toBe(true);
      const read = (await cache.getCachedResponse('alice', 'k')) as typeof value;
      expect(read).toEqual(value);
      expect(read.at).toBeInstanceOf(Date);
      expect(read.image).toBeInstanceOf(Uint8Array);
      expect(await cache.getCachedResponse('bob', 'k')).toBeNull();
      expect(cache.stats()).toMatchObject({ hits: 1, misses: 2, writes: 1 });
    });

    it('evicts the least recently used response of the tenant past maxEntriesPerTenant: a, b, c, then reading a, then d keeps c, a, d', async () => {
      const cache = responseCache({ maxEntriesPerTenant: 3 });
      for (const key of ['a', 'b', 'c']) await cache.cacheResponse('alice', key, key);
      await cache.cacheResponse('bob', 'x', 'x');
      expect(await cache.getCachedResponse('alice', 'a')).toBe('a');
      await cache.cacheResponse('alice', 'd', 'd');
      const left = await Promise.all(['a', 'b', 'c', 'd'].map((key) => cache.getCachedResponse('alice', key)));
      expect(left).toEqual(['a', null, 'c', 'd']);
      expect(await cache.getCachedResponse('bob', 'x')).toBe('x');
      expect(await topology.inspect.zcard(responseKeys('alice').lru)).toBe(3);
      expect(cache.stats().evictions).toBe(1);
    });

    it('returns a response larger than maxEntryBytes without storing it, counted as oversized', async () => {
      const cache = responseCache({ maxEntryBytes: 100 });
      const big = 'x'.repeat(200);
      expect((await cache.getOrGenerate('alice', 'k', async () => big)).value).toBe(big);
      expect(await cache.cacheResponse('alice', 'k2', big)).toBe(false);
      expect((await cache.getOrGenerate('alice', 'k', async () => 'small')).source).toBe('miss');
      expect(cache.stats()).toMatchObject({ oversized: 2, writes: 1 });
    });

    it('forgets a response once its TTL has run out, its index records too, however often it was read', async () => {
      const cache = responseCache();
      await cache.cacheResponse('alice', 'short', 'soon gone', { ttlSeconds: 1 });
      await cache.cacheResponse('alice', 'long', 'stays');
      await until(async () => (await cache.getCachedResponse('alice', 'short')) === null, 3000, 100);
      const { lru, deadlines } = responseKeys('alice');
      expect([await topology.inspect.zcard(lru), await topology.inspect.zcard(deadlines)]).toEqual([1, 1]);
      expect(await cache.getCachedResponse('alice', 'long')).toBe('stays');
    });

    it('gives every key a TTL: the index its latest deadline, a lock its lease, a live stream its own, the fence a day', async () => {
      const cache = responseCache({ ttlSeconds: 120, leaseTtlMs: 3000 });
      await cache.cacheResponse('alice', 'k', 'v');
      await cache.clearTenant('bob');
      const held = gate();
      const leading = cache.getOrStream('alice', 'streamed', async () => streamOf(ANSWER, held.opened, 1), POLICY);
      await until(async () => (await topology.keys('*:live:*')).length === 1);
      const ttls = Object.fromEntries(
        await Promise.all(
          (await topology.keys()).map(async (key) => [
            key.replace(/\{[^}]+\}/, '{t}').replace(/:(lock|live):.*/, ':$1'),
            await topology.inspect.pttl(key),
          ]),
        ),
      ) as Record<string, number>;
      expect(Object.keys(ttls).sort()).toEqual(
        [
          'wbot:llm:{t}:val',
          'wbot:llm:{t}:lru',
          'wbot:llm:{t}:exp',
          'wbot:llm:{t}:gen',
          'wbot:llm:{t}:lock',
          'wbot:llm:{t}:live',
        ].sort(),
      );
      const within = (ttl: number, most: number) => ttl > most - 2000 && ttl <= most;
      expect(within(ttls['wbot:llm:{t}:val'], 120_000)).toBe(true);
      expect(within(ttls['wbot:llm:{t}:lock'], 3000)).toBe(true);
      expect(within(ttls['wbot:llm:{t}:live'], LIVE_STREAM_TTL_MS)).toBe(true);
      expect(within(ttls['wbot:llm:{t}:gen'], RESPONSE_FENCE_TTL_MS)).toBe(true);
      held.open();
      await partsOf((await leading).stream);
    });
  });

  describe('coalescing through Redis', () => {
    it("makes one generate for two services' identical calls: the second follows the first's and gets its result", async () => {
      const [one, two] = [responseCache(), responseCache()];
      const held = gate();
      let calls = 0;
      const generate = async () => {
        calls++;
        await held.opened;
        return { text: 'shared', at: new Date(5) };
      };
      const first = one.getOrGenerate('alice', 'k', generate);
      await until(() => calls === 1);
      const second = two.getOrGenerate('alice', 'k', generate);
      await until(async () => (await topology.keys('*:lock:*')).length === 1 && (await followersOf()) === 1);
      held.open();
      expect(await first).toEqual({ source: 'miss', value: { text: 'shared', at: new Date(5) } });
      expect(await second).toEqual({ source: 'coalesced', value: { text: 'shared', at: new Date(5) } });
      expect(calls).toBe(1);
    });

    it("follows a stream live: the second service's first part comes before the leader's last, then every part in order", async () => {
      const [one, two] = [responseCache(), responseCache()];
      const held = gate();
      let calls = 0;
      const source = async () => {
        calls++;
        return streamOf(ANSWER, held.opened, 2);
      };
      const first = await one.getOrStream('alice', 'k', source, POLICY);
      const reading = partsOf(first.stream);
      const second = await two.getOrStream('alice', 'k', source, POLICY);
      const reader = second.stream.getReader();
      expect((await reader.read()).value).toEqual(ANSWER[0]);
      expect(second.source).toBe('coalesced');
      held.open();
      const rest: Part[] = [];
      for (let read = await reader.read(); !read.done; read = await reader.read()) rest.push(read.value);
      expect(rest).toEqual(ANSWER.slice(1));
      expect(await reading).toEqual(ANSWER);
      expect(calls).toBe(1);
    });

    it('lets a follower take over, and follow no more, once the leader failed; a failed stream is never stored', async () => {
      const [one, two] = [responseCache(), responseCache()];
      const held = gate();
      const failing = async () => streamOf([{ t: 'fail' }], held.opened);
      const first = await one.getOrStream('alice', 'k', failing, POLICY);
      const reading = partsOf(first.stream);
      const second = two.getOrStream('alice', 'k', async () => streamOf(ANSWER), POLICY);
      await until(async () => (await followersOf()) === 1);
      held.open();
      expect(await reading).toEqual([{ t: 'fail' }]);
      expect((await second).source).toBe('miss');
      expect(await partsOf((await second).stream)).toEqual(ANSWER);
      expect(two.stats()).toMatchObject({ takeovers: 1, misses: 1, writes: 1 });
      expect(one.stats()).toMatchObject({ writes: 0 });
    });

    it("goes on for a follower elsewhere when the leader's caller aborts, and stores the response; aborts the model call without one", async () => {
      const [one, two] = [responseCache(), responseCache()];
      const held = gate();
      const signals: AbortSignal[] = [];
      const source = async (signal: AbortSignal) => {
        signals.push(signal);
        return streamOf(ANSWER, held.opened, 1);
      };
      const caller = new AbortController();
      const first = await one.getOrStream('alice', 'k', source, { ...POLICY, signal: caller.signal });
      const second = two.getOrStream('alice', 'k', source, POLICY);
      await until(async () => (await followersOf()) === 1);
      caller.abort();
      await expect(partsOf(first.stream)).rejects.toThrow();
      held.open();
      expect(await partsOf((await second).stream)).toEqual(ANSWER);
      expect(signals.map((signal) => signal.aborted)).toEqual([false]);
      // the follower may read the finish part before the leader has stored the stream and let go of its lock
      await until(async () => (await topology.keys('*:lock:*')).length === 0);
      expect((await one.getOrStream('alice', 'k', source, POLICY)).source).toBe('hit');

      const alone = new AbortController();
      const lonely = await one.getOrStream('alice', 'other', source, { ...POLICY, signal: alone.signal });
      alone.abort();
      await expect(partsOf(lonely.stream)).rejects.toThrow();
      await until(() => signals[1]?.aborted === true);
    });

    async function followersOf(): Promise<number> {
      const [lock] = await topology.keys('*:lock:*');
      return lock ? Number(await topology.inspect.hget(lock, 'followers')) : 0;
    }
  });

  describe('clearTenant', () => {
    it('fences off a call of the tenant in flight in this process: it stores nothing, and a call after the clear does not join it', async () => {
      const cache = responseCache();
      const held = gate();
      const before = cache.getOrGenerate('alice', 'k', async () => {
        await held.opened;
        return 'before';
      });
      await until(async () => (await topology.keys('*:lock:*')).length === 1);
      expect(await cache.clearTenant('alice')).toBe(true);
      expect((await cache.getOrGenerate('alice', 'k', async () => 'after')).value).toBe('after');
      held.open();
      expect((await before).value).toBe('before');
      expect(await cache.getCachedResponse('alice', 'k')).toBe('after');
      expect(cache.stats()).toMatchObject({ fenced: 1, writes: 1, clears: 1 });
    });

    it('fences off a cacheResponse whose getCachedResponse missed before the clear', async () => {
      const cache = responseCache();
      expect(await cache.getCachedResponse('alice', 'k')).toBeNull();
      await cache.clearTenant('alice');
      expect(await cache.cacheResponse('alice', 'k', 'stale')).toBe(false);
      expect(await cache.cacheResponse('alice', 'k', 'fresh')).toBe(true);
      expect(await cache.getCachedResponse('alice', 'k')).toBe('fresh');
      expect(cache.stats().fenced).toBe(1);
    });
  });

  it('returns a result that has no JSON form to its caller without storing it; a follower then asks the model itself', async () => {
    const [one, two] = [responseCache(), responseCache()];
    const held = gate();
    const first = one.getOrGenerate('alice', 'k', async () => {
      await held.opened;
      return { n: 10n };
    });
    await until(async () => (await topology.keys('*:lock:*')).length === 1);
    const second = two.getOrGenerate('alice', 'k', async () => ({ n: 1 }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    held.open();
    expect((await first).value).toEqual({ n: 10n });
    expect(await second).toEqual({ source: 'miss', value: { n: 1 } });
  });
});

describe('ResponseCacheService on a single node', () => {
  let server: RedisServer;
  let client: Redis;

  beforeAll(async () => {
    server = await RedisServer.start();
    client = createCacheRedis(server.url, { commandTimeout: DEADLINE_MS, disconnectTimeout: 50 });
    await waitUntilReady(client);
  });

  afterAll(async () => {
    client.disconnect();
    await server.stop();
  });

  it("blocks on a connection of its own for its followers, never the cache's, and closes it with close()", async () => {
    const [one, two] = [new ResponseCacheService(client), new ResponseCacheService(client)];
    const held = gate();
    const first = one.getOrGenerate('alice', 'k', () => held.opened.then(() => 'v'));
    await until(async () => (await client.keys('*:lock:*')).length === 1);
    const second = two.getOrGenerate('alice', 'k', async () => 'own');
    const blockedClients = async () =>
      ((await client.call('CLIENT', 'LIST')) as string).split('\n').filter((line) => line.includes('cmd=xread')).length;
    await until(async () => (await blockedClients()) === 1);
    // the cache's own connection answers at once meanwhile
    expect(await one.getCachedResponse('alice', 'other')).toBeNull();
    held.open();
    expect((await second).value).toBe('v');
    expect((await first).value).toBe('v');
    const connections = async () => ((await client.call('CLIENT', 'LIST')) as string).trim().split('\n').length;
    const before = await connections();
    await two.close();
    await one.close();
    expect(await connections()).toBe(before - 1);
  });

  it('with Redis down: a read gives null, a write false, a clear false, and every call goes to the model', async () => {
    const down = createCacheRedis(`redis://127.0.0.1:${await freePort()}`);
    try {
      const cache = new ResponseCacheService(down, {}, { logger: { warn: () => undefined } });
      expect(await cache.getCachedResponse('alice', 'k')).toBeNull();
      expect(await cache.cacheResponse('alice', 'k', 'v')).toBe(false);
      expect(await cache.clearTenant('alice')).toBe(false);
      expect(await cache.getOrGenerate('alice', 'k', async () => 'from the model')).toEqual({
        source: 'miss',
        value: 'from the model',
      });
      const streamed = await cache.getOrStream('alice', 'k', async () => streamOf(ANSWER), POLICY);
      expect(await partsOf(streamed.stream)).toEqual(ANSWER);
      expect(cache.stats()).toMatchObject({ misses: 3, writes: 0, fallbacks: 5 });
    } finally {
      down.disconnect();
    }
  });

  it('rejects bad arguments with RedisCacheInputError naming them', async () => {
    const cache = new ResponseCacheService(client);
    const cases: [() => Promise<unknown>, string][] = [
      [() => cache.getCachedResponse('', 'k'), 'tenant'],
      [() => cache.getCachedResponse('alice', ''), 'key'],
      [() => cache.cacheResponse('alice', 'k', { n: 1n }), 'value'],
      [() => cache.cacheResponse('alice', 'k', 'v', { ttlSeconds: 0 }), 'options.ttlSeconds'],
      [() => cache.getOrGenerate('alice', 'k', 'model' as never), 'generate'],
      [() => cache.getOrGenerate('alice', 'k', async () => 1, { noCache: 1 as never }), 'options.noCache'],
      [() => cache.getOrGenerate('alice', 'k', async () => 1, { signal: {} as never }), 'options.signal'],
      [
        () =>
          cache.getOrStream('alice', 'k', async () => streamOf(ANSWER), { ...POLICY, classify: undefined as never }),
        'options.classify',
      ],
      [() => cache.clearTenant('\ud800'), 'tenant'],
    ];
    for (const [call, argument] of cases) {
      await expect(call()).rejects.toThrow(expect.objectContaining({ argument }) as Error);
      await expect(call()).rejects.toBeInstanceOf(RedisCacheInputError);
    }
  });
});
