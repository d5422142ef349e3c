import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  EmbeddingCacheService,
  MessageCacheClient,
  type CachedMessage,
  type CacheRuntimeOptions,
} from '@wbot/redis-cache';
import { InMemoryTracing, cacheSpans, idOf, parentOf, tracedRedis } from './in-memory-tracing';
import { serving } from '../support/near-cache';

/**
 * The caches' spans, on a real Redis, exported to memory: one CLIENT span per
 * public call, with exact attributes for each outcome.
 */
const DEADLINE_MS = 5000;
const tracing = new InMemoryTracing();
const redis = tracedRedis(tracing);
const warnings: string[] = [];
const runtime: CacheRuntimeOptions = { deadlineMs: DEADLINE_MS, logger: { warn: (line) => warnings.push(line) } };

const vector = (seed: number): number[] => [seed, seed + 0.5, -seed];
const message = (id: string): CachedMessage => ({ id, role: 'user', content: `text of ${id}` });

/** The one cache span among `spans`, after checking that it is the only one. */
function onlyCacheSpan(spans: ReadableSpan[]): ReadableSpan {
  const ours = cacheSpans(spans);
  expect(ours.map((span) => span.name)).toHaveLength(1);
  return ours[0];
}

/** Runs `call` under an app span and gives the cache span it made, and every span of the call. */
async function traced(call: () => Promise<unknown>): Promise<{ span: ReadableSpan; spans: ReadableSpan[] }> {
  tracing.take();
  await tracing.underParent(call);
  const spans = tracing.take().filter((span) => span.name !== 'app request');
  return { span: onlyCacheSpan(spans), spans };
}

beforeEach(async () => {
  await redis.client.flushall();
  warnings.length = 0;
});

describe('the embedding cache', () => {
  let cache: EmbeddingCacheService;

  beforeEach(() => {
    cache = new EmbeddingCacheService(redis.client, { maxEntriesPerUser: 2 }, runtime);
  });

  it('traces a hit as one CLIENT span "wbot.cache getCachedEmbedding" on the local connection', async () => {
    await cache.cacheEmbedding('u', 'a', vector(1));
    const { span } = await traced(() => cache.getCachedEmbedding('u', 'a'));
    expect(span.name).toBe('wbot.cache getCachedEmbedding');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.instrumentationScope.name).toBe('@wbot/redis-cache');
    expect(span.attributes).toEqual({
      'db.system.name': 'redis',
      'wbot.cache.connection': 'local',
      'wbot.cache.batch.size': 1,
      'wbot.cache.result': 'hit',
      'wbot.cache.hits': 1,
    });
    expect(span.status).toEqual({ code: SpanStatusCode.UNSET });
  });

  it('traces a miss with result miss and no hit', async () => {
    const { span } = await traced(() => cache.getCachedEmbedding('u', 'never cached'));
    expect(span.attributes).toEqual({
      'db.system.name': 'redis',
      'wbot.cache.connection': 'local',
      'wbot.cache.batch.size': 1,
      'wbot.cache.result': 'miss',
      'wbot.cache.hits': 0,
    });
  });

  it('traces a batch read that found some texts as partial, with its size and its hits', async () => {
    await cache.cacheEmbeddings('u', [
      { text: 'a', embedding: vector(1) },
      { text: 'b', embedding: vector(2) },
    ]);
    const { span } = await traced(() => cache.getCachedEmbeddings('u', ['a', 'x', 'b']));
    expect(span.name).toBe('wbot.cache getCachedEmbeddings');
    expect(span.attributes).toEqual({
      'db.system.name': 'redis',
      'wbot.cache.connection': 'local',
      'wbot.cache.batch.size': 3,
      'wbot.cache.result': 'partial',
      'wbot.cache.hits': 2,
    });
  });

  it('marks a read the near cache served whole with wbot.cache.near, and no Redis command under it', async () => {
    const near = await serving(new EmbeddingCacheService(redis.client, { nearCache: { maxBytes: 100_000 } }, runtime));
    try {
      await near.cacheEmbeddings('u', [
        { text: 'a', embedding: vector(1) },
        { text: 'b', embedding: vector(2) },
      ]);
      await near.getCachedEmbedding('u', 'a');
      const whole = await traced(() => near.getCachedEmbedding('u', 'a'));
      expect(whole.span.attributes).toEqual({
        'db.system.name': 'redis',
        'wbot.cache.connection': 'local',
        'wbot.cache.batch.size': 1,
        'wbot.cache.result': 'hit',
        'wbot.cache.hits': 1,
        'wbot.cache.near': true,
        'wbot.cache.near.hits': 1,
      });
      expect(whole.spans.filter((span) => parentOf(span) === idOf(whole.span))).toEqual([]);

      const partial = await traced(() => near.getCachedEmbeddings('u', ['a', 'x', 'b']));
      expect(partial.span.attributes).toEqual({
        'db.system.name': 'redis',
        'wbot.cache.connection': 'local',
        'wbot.cache.batch.size': 3,
        'wbot.cache.result': 'partial',
        'wbot.cache.hits': 2,
        'wbot.cache.near': false,
        'wbot.cache.near.hits': 1,
      });
      expect(partial.spans.filter((span) => parentOf(span) === idOf(partial.span)).map((span) => span.name)).toEqual([
        'evalsha',
        'hmget',
      ]);
    } finally {
      await near.close();
    }
  });

  it("sends the near cache's touches outside the trace of the hit that queued them", async () => {
    const near = await serving(
      new EmbeddingCacheService(redis.client, { nearCache: { maxBytes: 100_000, touchIntervalMs: 1 } }, runtime),
    );
    try {
      await near.cacheEmbedding('u', 'a', vector(1));
      await near.getCachedEmbedding('u', 'a');
      await new Promise((resolve) => setTimeout(resolve, 10));
      tracing.take();
      const traceId = await tracing.underParent(async (parent) => {
        await near.getCachedEmbedding('u', 'a');
        return parent.spanContext().traceId;
      });
      // the touch leaves 100 ms after the hit
      await new Promise((resolve) => setTimeout(resolve, 300));
      const inTrace = tracing.take().filter((span) => span.spanContext().traceId === traceId);
      expect(inTrace.map((span) => span.name).sort()).toEqual(['app request', 'wbot.cache getCachedEmbedding']);
      expect(near.stats().nearHits).toBe(1);
    } finally {
      await near.close();
    }
  });

  it('traces a write with the entries it evicted past maxEntriesPerUser', async () => {
    await cache.cacheEmbedding('u', 'old', vector(1));
    const { span } = await traced(() =>
      cache.cacheEmbeddings('u', [
        { text: 'a', embedding: vector(2) },
        { text: 'b', embedding: vector(3) },
      ]),
    );
    expect(span.name).toBe('wbot.cache cacheEmbeddings');
    expect(span.attributes).toEqual({
      'db.system.name': 'redis',
      'wbot.cache.connection': 'local',
      'wbot.cache.batch.size': 2,
      'wbot.cache.result': 'ok',
      'wbot.cache.evictions': 1,
    });
  });

  it('traces a clear as ok, with no batch size', async () => {
    const { span } = await traced(() => cache.clearUser('u'));
    expect(span.name).toBe('wbot.cache clearUser');
    expect(span.attributes).toEqual({
      'db.system.name': 'redis',
      'wbot.cache.connection': 'local',
      'wbot.cache.result': 'ok',
    });
  });

  it("runs compute under getOrComputeEmbeddings' span, and stores its vectors under a cacheEmbeddings span of their own", async () => {
    await cache.cacheEmbedding('u', 'a', vector(1));
    let computeParent: string | undefined;
    tracing.take();
    await tracing.underParent(() =>
      cache.getOrComputeEmbeddings('u', ['a', 'b'], async (missing) => {
        computeParent = trace.getActiveSpan()?.spanContext().spanId;
        return missing.map((_, i) => vector(10 + i));
      }),
    );
    // the write ends first, inside the read
    const [write, outer] = cacheSpans(tracing.take());
    expect(outer.name).toBe('wbot.cache getOrComputeEmbeddings');
    expect(outer.attributes).toEqual({
      'db.system.name': 'redis',
      'wbot.cache.connection': 'local',
      'wbot.cache.batch.size': 2,
      'wbot.cache.result': 'partial',
      'wbot.cache.hits': 1,
    });
    expect(computeParent).toBe(idOf(outer));
    expect(write.name).toBe('wbot.cache cacheEmbeddings');
    expect(parentOf(write)).toBe(idOf(outer));
    expect(write.attributes).toEqual({
      'db.system.name': 'redis',
      'wbot.cache.connection': 'local',
      'wbot.cache.batch.size': 1,
      'wbot.cache.result': 'ok',
      'wbot.cache.evictions': 0,
    });
  });

  it("marks the span ERROR with the compute error's name, never its message, when compute rejects", async () => {
    class ModelUnavailableError extends Error {
      override readonly name = 'ModelUnavailableError';
    }
    tracing.take();
    await expect(
      tracing.underParent(() =>
        cache.getOrComputeEmbeddings('u', ['secret text'], () =>
          Promise.reject(new ModelUnavailableError('could not embed "secret text"')),
        ),
      ),
    ).rejects.toThrow(ModelUnavailableError);
    const span = onlyCacheSpan(tracing.take());
    expect(span.attributes).toEqual({
      'db.system.name': 'redis',
      'wbot.cache.connection': 'local',
      'wbot.cache.batch.size': 1,
      'wbot.cache.result': 'miss',
      'wbot.cache.hits': 0,
      'error.type': 'ModelUnavailableError',
    });
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'the call rejected' });
    expect(span.events).toEqual([]);
  });
});

describe('the message cache', () => {
  let cache: MessageCacheClient;

  beforeEach(() => {
    cache = new MessageCacheClient(redis.client, { maxCachedMessages: 3 }, runtime);
  });

  it('traces a fill that evicted the least recently used conversation, on the shared connection', async () => {
    await cache.cacheMessages('older', [message('o1'), message('o2')]);
    const { span } = await traced(() => cache.cacheMessages('newer', [message('n1'), message('n2')]));
    expect(span.name).toBe('wbot.cache cacheMessages');
    expect(span.attributes).toEqual({
      'db.system.name': 'redis',
      'wbot.cache.connection': 'shared',
      'wbot.cache.batch.size': 2,
      'wbot.cache.result': 'ok',
      'wbot.cache.evictions': 1,
    });
  });

  it.each(['getCachedMessages', 'getCachedMessagesJson'] as const)('traces a hit and a miss of %s', async (read) => {
    await cache.cacheMessages('c', [message('m1')]);
    const hit = await traced(() => cache[read]('c'));
    const miss = await traced(() => cache[read]('not cached'));
    expect(hit.span.name).toBe(`wbot.cache ${read}`);
    const common = { 'db.system.name': 'redis', 'wbot.cache.connection': 'shared', 'wbot.cache.evictions': 0 };
    expect(hit.span.attributes).toEqual({ ...common, 'wbot.cache.result': 'hit', 'wbot.cache.hits': 1 });
    expect(miss.span.attributes).toEqual({ ...common, 'wbot.cache.result': 'miss', 'wbot.cache.hits': 0 });
  });

  it('traces an append as ok, and one to a conversation not cached as skipped', async () => {
    await cache.cacheMessages('c', [message('m1')]);
    const appended = await traced(() => cache.appendMessages('c', [message('m2')]));
    const skipped = await traced(() => cache.appendMessages('not cached', [message('x1'), message('x2')]));
    const write = { 'db.system.name': 'redis', 'wbot.cache.connection': 'shared', 'wbot.cache.evictions': 0 };
    expect(appended.span.attributes).toEqual({ ...write, 'wbot.cache.batch.size': 1, 'wbot.cache.result': 'ok' });
    expect(skipped.span.attributes).toEqual({
      ...write,
      'wbot.cache.batch.size': 2,
      'wbot.cache.result': 'skipped',
    });
  });

  it("runs the loader under getOrLoadMessages' span, and traces the miss it filled", async () => {
    let loaderParent: string | undefined;
    const { span } = await traced(() =>
      cache.getOrLoadMessages('c', async () => {
        loaderParent = trace.getActiveSpan()?.spanContext().spanId;
        return [message('m1')];
      }),
    );
    expect(span.name).toBe('wbot.cache getOrLoadMessages');
    expect(loaderParent).toBe(idOf(span));
    expect(span.attributes).toEqual({
      'db.system.name': 'redis',
      'wbot.cache.connection': 'shared',
      'wbot.cache.result': 'miss',
      'wbot.cache.hits': 0,
      'wbot.cache.evictions': 0,
    });
    expect(await cache.getCachedMessages('c')).toEqual([message('m1')]);
  });

  it('traces a clear as ok', async () => {
    const { span } = await traced(() => cache.clearConversation('c'));
    expect(span.name).toBe('wbot.cache clearConversation');
    expect(span.attributes).toEqual({
      'db.system.name': 'redis',
      'wbot.cache.connection': 'shared',
      'wbot.cache.result': 'ok',
      'wbot.cache.evictions': 0,
    });
  });
});
