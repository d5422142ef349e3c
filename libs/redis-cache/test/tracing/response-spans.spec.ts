import { SpanKind } from '@opentelemetry/api';
import { ResponseCacheService, createCacheRedis, type CacheRuntimeOptions } from '@wbot/redis-cache';
import { responseFieldHasher, responseKeys, responseLockKey, userTag } from '../../src/keys';
import { freePort } from '../../../../test/support/redis-server';
import { until } from '../../../../test/support/until';
import { InMemoryTracing, cacheSpans, tracedRedis } from './in-memory-tracing';

/**
 * The response cache's spans: one CLIENT span per public call, saying how it was answered, on the connection it
 * runs on; and none of them, nor the ioredis command spans under them, says what was asked, what was answered,
 * or for whom.
 */
const tracing = new InMemoryTracing();
const redis = tracedRedis(tracing);
const runtime: CacheRuntimeOptions = { deadlineMs: 5000, logger: { warn: () => undefined } };

const TENANT = 'tenant-4711@example.com';
const KEY = 'the digest of my secret prompt';
const ANSWER = 'the confidential answer';
const SECRETS = [
  TENANT,
  KEY,
  ANSWER,
  userTag(TENANT),
  responseKeys(TENANT).entries,
  responseFieldHasher('value')(KEY),
  responseLockKey(responseKeys(TENANT), responseFieldHasher('value')(KEY)),
];

beforeEach(() => redis.client.flushall());

/** The followers of the one lock held, if any. */
async function followers(): Promise<number> {
  const [lock] = await redis.client.keys('*:lock:*');
  return lock ? Number(await redis.client.hget(lock, 'followers')) : 0;
}

/** Every public operation: a miss, a hit, a coalesced call, a bypass, a read, a write and a clear. */
async function everyOperation(cache: ResponseCacheService, other: ResponseCacheService): Promise<void> {
  await cache.getOrGenerate(TENANT, KEY, async () => ANSWER);
  await cache.getOrGenerate(TENANT, KEY, async () => ANSWER);
  let release!: () => void;
  let started = false;
  const held = () => {
    started = true;
    return new Promise<string>((resolve) => (release = () => resolve(ANSWER)));
  };
  const leading = cache.getOrGenerate(TENANT, `${KEY} 2`, held);
  await until(() => started);
  const following = other.getOrGenerate(TENANT, `${KEY} 2`, async () => ANSWER);
  // on a Redis that answers, the other call follows the lock before the leader answers
  await until(async () => cache.connectionState().status !== 'ready' || (await followers()) === 1);
  release();
  await Promise.all([leading, following]);
  await cache.getOrGenerate(TENANT, null, async () => ANSWER);
  await cache.getCachedResponse(TENANT, `${KEY} 3`);
  await cache.cacheResponse(TENANT, `${KEY} 3`, ANSWER);
  const stream = await cache.getOrStream(TENANT, KEY, async () => new ReadableStream({ start: (c) => c.close() }), {
    classify: () => 'finish',
    failurePart: () => ANSWER,
  });
  await stream.stream.cancel();
  await cache.clearTenant(TENANT);
}

it('makes one CLIENT span per call, named for its operation, with how it was answered, on its connection', async () => {
  const cache = new ResponseCacheService(redis.client, { connection: 'shared' }, runtime);
  const other = new ResponseCacheService(redis.client, { connection: 'shared' }, runtime);
  try {
    tracing.take();
    await tracing.underParent(() => everyOperation(cache, other));
    const spans = cacheSpans(tracing.take());
    expect(spans.map((span) => [span.name, span.attributes['wbot.cache.result']]).sort()).toEqual(
      [
        ['wbot.cache getOrGenerateResponse', 'miss'],
        ['wbot.cache getOrGenerateResponse', 'hit'],
        ['wbot.cache getOrGenerateResponse', 'miss'],
        ['wbot.cache getOrGenerateResponse', 'coalesced'],
        ['wbot.cache getOrGenerateResponse', 'bypass'],
        ['wbot.cache getCachedResponse', 'miss'],
        ['wbot.cache cacheResponse', 'ok'],
        ['wbot.cache getOrStreamResponse', 'miss'],
        ['wbot.cache clearTenant', 'ok'],
      ].sort(),
    );
    expect(new Set(spans.map((span) => [span.kind, span.attributes['wbot.cache.connection']].join()))).toEqual(
      new Set([[SpanKind.CLIENT, 'shared'].join()]),
    );
  } finally {
    await Promise.all([cache.close(), other.close()]);
  }
});

it('no span of any operation, served or fallen back, carries the tenant, the key, the answer or a key name', async () => {
  const down = createCacheRedis(`redis://127.0.0.1:${await freePort()}`);
  const caches = [
    new ResponseCacheService(redis.client, {}, runtime),
    new ResponseCacheService(redis.client, {}, runtime),
    new ResponseCacheService(down, {}, runtime),
    new ResponseCacheService(down, {}, runtime),
  ];
  try {
    tracing.take();
    await tracing.underParent(async () => {
      await everyOperation(caches[0], caches[1]);
      await everyOperation(caches[2], caches[3]);
    });
  } finally {
    await Promise.all(caches.map((cache) => cache.close()));
    down.disconnect();
  }
  const spans = tracing.take();
  expect(new Set(cacheSpans(spans).map((span) => span.attributes['wbot.cache.result']))).toEqual(
    new Set(['hit', 'miss', 'coalesced', 'bypass', 'ok', 'fallback']),
  );
  expect(spans.filter((span) => span.name === 'evalsha').length).toBeGreaterThan(0);
  const leaks = spans.flatMap((span) => {
    const shown = JSON.stringify([span.name, span.attributes, span.status, span.events]);
    return SECRETS.filter((secret) => shown.includes(secret)).map((secret) => `${span.name}: ${secret}`);
  });
  expect(leaks).toEqual([]);
});
