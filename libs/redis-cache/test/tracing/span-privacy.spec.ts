import { EmbeddingCacheService, MessageCacheClient, createCacheRedis } from '@wbot/redis-cache';
import { conversationKeys, embeddingField, embeddingKeys, userTag } from '../../src/keys';
import { freePort } from '../../../../test/support/redis-server';
import { InMemoryTracing, cacheSpans, tracedRedis } from './in-memory-tracing';

/**
 * A trace leaves the process, so no span says what the cache holds or for
 * whom: no text, user id, conversation id, message, key or key hash, in a
 * span's name, attributes, status or events. The ioredis command spans are
 * checked too, with the instrumentation configured as docs/tracing.md says.
 */
const USER = 'alice@example.com';
const TEXT = 'my secret diagnosis';
const CONVERSATION = 'conversation-4711-private';
const CONTENT = 'the patient reports dizziness';
const SECRETS = [
  USER,
  TEXT,
  CONVERSATION,
  CONTENT,
  userTag(USER),
  embeddingKeys(USER).vectors,
  embeddingKeys(USER).lru,
  embeddingField('default', 'float32', TEXT),
  ...Object.values(conversationKeys(CONVERSATION, 0)),
];

const tracing = new InMemoryTracing();
const redis = tracedRedis(tracing);
const logger = { warn: () => undefined };

/** Every public operation once, with the same user, text and conversation. */
async function everyOperation(embeddings: EmbeddingCacheService, messages: MessageCacheClient): Promise<void> {
  const message = { id: 'm1', role: 'user', content: CONTENT };
  await embeddings.cacheEmbedding(USER, TEXT, [1, 2]);
  await embeddings.cacheEmbeddings(USER, [{ text: `${TEXT} 2`, embedding: [3, 4] }]);
  await embeddings.getCachedEmbedding(USER, TEXT);
  await embeddings.getCachedEmbeddings(USER, [TEXT, `${TEXT} 3`]);
  await embeddings.getOrComputeEmbeddings(USER, [TEXT, `${TEXT} 4`], async (missing) => missing.map(() => [5, 6]));
  await embeddings
    .getOrComputeEmbeddings(USER, [`${TEXT} 5`], () => Promise.reject(new Error(`cannot embed ${TEXT} for ${USER}`)))
    .catch(() => undefined);
  await embeddings.clearUser(USER);
  await messages.getOrLoadMessages(CONVERSATION, async () => [message]);
  await messages.cacheMessages(CONVERSATION, [message]);
  await messages.appendMessages(CONVERSATION, [{ ...message, id: 'm2' }]);
  await messages.getCachedMessages(CONVERSATION);
  await messages.clearConversation(CONVERSATION);
}

it('no span of any operation, served or fallen back, carries a text, an id, a message or a key', async () => {
  const down = createCacheRedis(`redis://127.0.0.1:${await freePort()}`);
  try {
    tracing.take();
    await tracing.underParent(async () => {
      await everyOperation(
        new EmbeddingCacheService(redis.client, {}, { logger }),
        new MessageCacheClient(redis.client, {}, { logger }),
      );
      await everyOperation(
        new EmbeddingCacheService(down, {}, { logger }),
        new MessageCacheClient(down, {}, { logger }),
      );
    });
  } finally {
    down.disconnect();
  }
  const spans = tracing.take();
  const results = cacheSpans(spans).map((span) => span.attributes['wbot.cache.result']);
  // the sweep did go through both: cached reads and writes, and fallbacks
  expect(new Set(results)).toEqual(new Set(['hit', 'partial', 'miss', 'ok', 'skipped', 'fallback']));
  expect(spans.filter((span) => span.name === 'evalsha').length).toBeGreaterThan(0);

  const leaks = spans.flatMap((span) => {
    const shown = JSON.stringify([span.name, span.attributes, span.status, span.events]);
    return SECRETS.filter((secret) => shown.includes(secret)).map((secret) => `${span.name}: ${secret}`);
  });
  expect(leaks).toEqual([]);
});
