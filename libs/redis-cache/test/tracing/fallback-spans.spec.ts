import { SpanStatusCode } from '@opentelemetry/api';
import {
  EmbeddingCacheService,
  MessageCacheClient,
  createCacheRedis,
  type CacheRuntimeOptions,
} from '@wbot/redis-cache';
import { freePort } from '../../../../test/support/redis-server';
import { CIRCUIT_BREAKER_DEFAULTS } from '../../src/options/defaults';
import { OpossumConnectionBreaker } from '../../src/resilience/opossum-breaker';
import { InMemoryTracing, cacheSpans, tracedRedis } from './in-memory-tracing';

/**
 * A Redis failure never reaches the caller, but it shows in the trace: the
 * call's span has result `fallback`, status ERROR, and an `error.type` that
 * says why, for a connection that is down, a server that does not answer
 * within the deadline, and a breaker that opened.
 */
const DEADLINE_MS = 100;
const FALLBACK = { code: SpanStatusCode.ERROR, message: 'Redis failed; the call gave its fallback' };
const tracing = new InMemoryTracing();
const redis = tracedRedis(tracing);
const warnings: string[] = [];
const logger = { warn: (line: string) => warnings.push(line) };

async function cacheSpansOf(call: () => Promise<unknown>) {
  tracing.take();
  await tracing.underParent(call);
  return cacheSpans(tracing.take());
}

afterEach(() => redis.server.thaw());

it('marks a call on a connection that is down as a fallback, connection_unavailable, and sends no command', async () => {
  const down = createCacheRedis(`redis://127.0.0.1:${await freePort()}`);
  try {
    const runtime: CacheRuntimeOptions = { deadlineMs: 1000, logger };
    const embeddings = new EmbeddingCacheService(down, {}, runtime);
    const messages = new MessageCacheClient(down, {}, runtime);
    tracing.take();
    const results = await tracing.underParent(() =>
      Promise.all([embeddings.getCachedEmbedding('u', 'a'), messages.cacheMessages('c', [{ id: 1 }])]),
    );
    expect(results).toEqual([null, false]);
    const spans = tracing.take().filter((span) => span.name !== 'app request');
    expect(spans.map((span) => span.name)).toEqual(['wbot.cache getCachedEmbedding', 'wbot.cache cacheMessages']);
    expect(spans.map((span) => span.attributes)).toEqual([
      {
        'db.system.name': 'redis',
        'wbot.cache.connection': 'local',
        'wbot.cache.batch.size': 1,
        'wbot.cache.result': 'fallback',
        'error.type': 'connection_unavailable',
      },
      {
        'db.system.name': 'redis',
        'wbot.cache.connection': 'shared',
        'wbot.cache.batch.size': 1,
        'wbot.cache.result': 'fallback',
        'error.type': 'connection_unavailable',
      },
    ]);
    expect(spans.map((span) => span.status)).toEqual([FALLBACK, FALLBACK]);
  } finally {
    down.disconnect();
  }
});

it('marks a call the server did not answer within the deadline as a timeout, and the read of that conversation after it as a miss', async () => {
  const messages = new MessageCacheClient(redis.client, {}, { deadlineMs: DEADLINE_MS, logger });
  expect(await messages.cacheMessages('c', [{ id: 1 }])).toBe(true);
  redis.server.freeze();
  const [append] = await cacheSpansOf(async () => expect(await messages.appendMessages('c', [{ id: 2 }])).toBe(false));
  redis.server.thaw();
  expect(append.attributes).toEqual({
    'db.system.name': 'redis',
    'wbot.cache.connection': 'shared',
    'wbot.cache.batch.size': 1,
    'wbot.cache.result': 'fallback',
    'error.type': 'timeout',
  });
  expect(append.status).toEqual(FALLBACK);

  // until the failed write is settled, the conversation misses without a Redis call
  const [read] = await cacheSpansOf(async () => expect(await messages.getCachedMessages('c')).toBeNull());
  expect(read.attributes).toEqual({
    'db.system.name': 'redis',
    'wbot.cache.connection': 'shared',
    'wbot.cache.result': 'miss',
    'wbot.cache.hits': 0,
  });
  expect(read.status).toEqual({ code: SpanStatusCode.UNSET });
});

it('marks the calls after the breaker opened as breaker_open', async () => {
  const breaker = new OpossumConnectionBreaker('local', CIRCUIT_BREAKER_DEFAULTS);
  try {
    const embeddings = new EmbeddingCacheService(redis.client, {}, { deadlineMs: DEADLINE_MS, logger, breaker });
    redis.server.freeze();
    const spans = [];
    for (let call = 0; call <= CIRCUIT_BREAKER_DEFAULTS.consecutiveFailures; call++) {
      spans.push(...(await cacheSpansOf(() => embeddings.cacheEmbedding('u', 'a', [1, 2]))));
    }
    redis.server.thaw();
    expect(spans.map((span) => span.attributes['error.type'])).toEqual([
      'timeout',
      'timeout',
      'timeout',
      'breaker_open',
    ]);
    expect(spans[3].attributes).toEqual({
      'db.system.name': 'redis',
      'wbot.cache.connection': 'local',
      'wbot.cache.batch.size': 1,
      'wbot.cache.result': 'fallback',
      'error.type': 'breaker_open',
    });
    expect(spans.map((span) => span.status)).toEqual(spans.map(() => FALLBACK));
  } finally {
    breaker.shutdown();
  }
});
