import { EmbeddingCacheService, MessageCacheClient, type CachedMessage } from '@wbot/redis-cache';
import type { CacheOperation } from '../../src/tracing/span-attributes';
import { InMemoryTracing, cacheSpans, idOf, parentOf, tracedRedis } from './in-memory-tracing';

/**
 * Where the caches' spans sit in a trace: each public call's span under the
 * caller's active span, and the ioredis instrumentation's command spans under
 * the call's span, never beside it.
 */
const tracing = new InMemoryTracing();
const redis = tracedRedis(tracing);
let embeddings: EmbeddingCacheService;
let messages: MessageCacheClient;

const vector = [1, 2, 3];
const message: CachedMessage = { id: 'm1', role: 'user', content: 'hello' };

/** Each public operation: what it needs cached first, the call, and the Redis commands it sends, in order. */
const OPERATIONS: [CacheOperation, () => Promise<unknown>, () => Promise<unknown>, string[]][] = [
  [
    'getCachedEmbedding',
    () => embeddings.cacheEmbedding('u', 'a', vector),
    () => embeddings.getCachedEmbedding('u', 'a'),
    ['evalsha'],
  ],
  [
    'getCachedEmbeddings',
    () => embeddings.cacheEmbedding('u', 'a', vector),
    () => embeddings.getCachedEmbeddings('u', ['a', 'b']),
    ['evalsha', 'hmget'],
  ],
  ['cacheEmbedding', async () => undefined, () => embeddings.cacheEmbedding('u', 'a', vector), ['evalsha']],
  [
    'cacheEmbeddings',
    async () => undefined,
    () => embeddings.cacheEmbeddings('u', [{ text: 'a', embedding: vector }]),
    ['evalsha'],
  ],
  [
    'getOrComputeEmbeddings',
    () =>
      embeddings.cacheEmbeddings('u', [
        { text: 'a', embedding: vector },
        { text: 'b', embedding: vector },
      ]),
    () => embeddings.getOrComputeEmbeddings('u', ['a', 'b'], () => Promise.reject(new Error('all cached'))),
    ['evalsha', 'hmget'],
  ],
  ['clearUser', async () => undefined, () => embeddings.clearUser('u'), ['evalsha']],
  [
    'getCachedMessages',
    () => messages.cacheMessages('c', [message]),
    () => messages.getCachedMessages('c'),
    ['evalsha', 'lrange'],
  ],
  [
    'getCachedMessagesJson',
    () => messages.cacheMessages('c', [message]),
    () => messages.getCachedMessagesJson('c'),
    ['evalsha', 'lrange'],
  ],
  [
    'getOrLoadMessages',
    async () => undefined,
    () => messages.getOrLoadMessages('c', async () => [message]),
    ['evalsha', 'lrange', 'evalsha'],
  ],
  ['cacheMessages', async () => undefined, () => messages.cacheMessages('c', [message]), ['evalsha']],
  ['appendMessages', () => messages.cacheMessages('c', []), () => messages.appendMessages('c', [message]), ['evalsha']],
  ['clearConversation', async () => undefined, () => messages.clearConversation('c'), ['evalsha']],
];

beforeAll(async () => {
  embeddings = new EmbeddingCacheService(redis.client, {}, { deadlineMs: 5000 });
  messages = new MessageCacheClient(redis.client, {}, { deadlineMs: 5000 });
  // a script's first call on a socket sends it whole (EVAL), later ones EVALSHA, which is what these tests count:
  // each read, whose script goes without ioredis's defineCommand, has its first call here
  await embeddings.getCachedEmbeddings('warm-up', ['a', 'b']);
  await messages.getCachedMessages('warm-up');
});

beforeEach(async () => {
  await redis.client.flushall();
});

it.each(OPERATIONS)(
  "%s: its span is a child of the caller's, and its Redis commands are children of its span",
  async (operation, setup, call, commands) => {
    await setup();
    tracing.take();
    let parentId = '';
    await tracing.underParent(async (parent) => {
      parentId = idOf(parent);
      await call();
    });
    const spans = tracing.take().filter((span) => span.name !== 'app request');
    const [ours] = cacheSpans(spans);
    expect(cacheSpans(spans).map((span) => span.name)).toEqual([`wbot.cache ${operation}`]);
    expect(parentOf(ours)).toBe(parentId);
    const sent = spans.filter((span) => span !== ours);
    expect(sent.map((span) => span.name)).toEqual(commands);
    expect(sent.map(parentOf)).toEqual(commands.map(() => idOf(ours)));
    expect(new Set(spans.map((span) => span.spanContext().traceId)).size).toBe(1);
  },
);

it('keeps concurrent calls apart: each command span is under the span of the call that sent it', async () => {
  await embeddings.cacheEmbeddings('u', [
    { text: 'a', embedding: vector },
    { text: 'b', embedding: vector },
  ]);
  tracing.take();
  await Promise.all(
    ['a', 'b', 'a', 'b'].map((text) => tracing.underParent(() => embeddings.getCachedEmbedding('u', text))),
  );
  const spans = tracing.take();
  const requests = spans.filter((span) => span.name === 'app request');
  const ours = cacheSpans(spans);
  const commands = spans.filter((span) => span.name === 'evalsha');
  expect([requests.length, ours.length, commands.length]).toEqual([4, 4, 4]);
  expect(new Set(ours.map(parentOf))).toEqual(new Set(requests.map(idOf)));
  expect(new Set(commands.map(parentOf))).toEqual(new Set(ours.map(idOf)));
  for (const command of commands) {
    const owner = ours.find((span) => idOf(span) === parentOf(command))!;
    expect(command.spanContext().traceId).toBe(owner.spanContext().traceId);
  }
});
