import type { Redis } from 'ioredis';
import fc from 'fast-check';
import { EmbeddingCacheService, MessageCacheClient, RedisCacheInputError } from '@wbot/redis-cache';
import { connectedCacheRedis, inspector } from '../../../../test/support/redis-client';
import { RedisServer } from '../../../../test/support/redis-server';

/**
 * Fuzzing the bad arguments of every public call, on hits as on misses: each
 * rejects with RedisCacheInputError naming an argument, never another error,
 * and sends nothing to Redis. Covers options of any wrong type, messages nested
 * past the depth limit (up to 20,000 levels), and calls past `maxCallBytes`.
 */
let server: RedisServer;
let client: Redis;
let inspect: Redis;
let embeddings: EmbeddingCacheService;
let messages: MessageCacheClient;
const MAX_CALL_BYTES = 4096;

beforeAll(async () => {
  server = await RedisServer.start();
  client = await connectedCacheRedis(server.url);
  inspect = await inspector(server.url);
  const quiet = { logger: { warn: () => undefined } };
  embeddings = new EmbeddingCacheService(client, { maxCallBytes: MAX_CALL_BYTES }, quiet);
  messages = new MessageCacheClient(client, { maxCallBytes: MAX_CALL_BYTES }, quiet);
  // hits for every read below, so that a check made only on a miss would show
  expect(await embeddings.cacheEmbedding('u', 't', [1, 2])).toBe(true);
  expect(await messages.cacheMessages('c', [{ id: 'm' }])).toBe(true);
});

afterAll(async () => {
  client.disconnect();
  inspect.disconnect();
  await server.stop();
});

async function commandsRun(): Promise<number> {
  const stats = await inspect.info('commandstats');
  return [...stats.matchAll(/cmdstat_(evalsha|eval|hmget|lrange):calls=(\d+)/g)].reduce(
    (sum, m) => sum + Number(m[2]),
    0,
  );
}

/** Any value that is not an options object (or absent). */
const notOptions = fc
  .anything()
  .filter((value) => value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value)));

function nested(depth: number): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  let level = root;
  for (let i = 1; i < depth; i++) level = (level.a = {}) as Record<string, unknown>;
  return root;
}

/** A call with one bad argument, and the argument it must name (a prefix of it, for nested paths). */
const badCall = fc.oneof(
  notOptions.map((options) => [() => embeddings.getCachedEmbedding('u', 't', options as never), 'options'] as const),
  notOptions.map((options) => [() => embeddings.getCachedEmbeddings('u', ['t'], options as never), 'options'] as const),
  notOptions.map((options) => [() => messages.getCachedMessages('c', options as never), 'options'] as const),
  fc
    .integer({ min: 65, max: 20_000 })
    .map(
      (depth) => [() => messages.appendMessages('c', [{ id: 'x', content: nested(depth) }]), 'newMessages[0]'] as const,
    ),
  fc
    .integer({ min: 65, max: 20_000 })
    .map((depth) => [() => messages.cacheMessages('c', [nested(depth)]), 'messages[0]'] as const),
  fc.integer({ min: 2, max: 40 }).map(
    (count) =>
      [
        () =>
          messages.cacheMessages(
            'c',
            Array.from({ length: count }, () => ({ content: 'x'.repeat(MAX_CALL_BYTES / 2) })),
          ),
        'messages[',
      ] as const,
  ),
  fc
    .integer({ min: MAX_CALL_BYTES / 4 + 1, max: 20_000 })
    .map(
      (dimensions) =>
        [() => embeddings.cacheEmbedding('u', 't', new Array<number>(dimensions).fill(0.5)), 'embedding'] as const,
    ),
);

it('every bad argument rejects with RedisCacheInputError naming it, and reaches no Redis', async () => {
  const before = await commandsRun();
  await fc.assert(
    fc.asyncProperty(badCall, async ([call, argument]) => {
      const error = await call().then(
        () => undefined,
        (rejection: unknown) => rejection,
      );
      expect(error).toBeInstanceOf(RedisCacheInputError);
      expect((error as RedisCacheInputError).argument.startsWith(argument)).toBe(true);
    }),
    { numRuns: 300 },
  );
  expect(await commandsRun()).toBe(before);
  // and the hits are still there, untouched by what was refused
  expect(await embeddings.getCachedEmbedding('u', 't')).toEqual([1, 2]);
  expect(await messages.getCachedMessages('c')).toEqual([{ id: 'm' }]);
}, 60_000);
