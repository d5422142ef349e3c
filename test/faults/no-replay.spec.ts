import type { Redis } from 'ioredis';
import { conversationKeys, embeddingField, embeddingKeys } from '../../libs/redis-cache/src/keys';
import { inspector, waitUntilReady } from '../support/redis-client';
import { RedisServer } from '../support/redis-server';
import {
  DEFAULT_DEADLINE_MS,
  SLACK_MS,
  VECTOR,
  expectConsistentBookkeeping,
  openCache,
  sleep,
  timed,
  until,
  type Cache,
} from './fault-harness';

/**
 * No replays. With the offline queue off and no automatic resend, a call made
 * while the connection is down is never sent, so it can never land later. A
 * command already written to the socket when the server froze is another
 * matter: the server runs it when it wakes, after the caller was told `false`.
 * That is why every script is idempotent and keeps the bookkeeping whole, and a
 * retry of the same write changes nothing more.
 */
let server: RedisServer;
let cache: Cache;
let inspect: Redis;

beforeEach(async () => {
  server = await RedisServer.start();
  cache = openCache(server.url);
  await waitUntilReady(cache.client);
  inspect = await inspector(server.url);
});

afterEach(async () => {
  await cache.close();
  inspect.disconnect();
  await server.stop();
});

it('a write made while Redis is down returns false and is never applied, not even after Redis is back', async () => {
  expect(await cache.messages.cacheMessages('conversation', [{ id: 1, text: 'before' }])).toBe(true);
  inspect.disconnect();
  await server.kill();
  await until(() => cache.client.status !== 'ready', 1000, 1);

  expect(await cache.embeddings.cacheEmbedding('user', 'while down', VECTOR)).toBe(false);
  expect(await cache.messages.appendMessages('conversation', [{ id: 2, text: 'while down' }])).toBe(false);

  await server.restart();
  inspect = await inspector(server.url);
  await waitUntilReady(cache.client);
  await sleep(200);
  expect(await inspect.keys('*')).toEqual([]);
});

it('a write on the wire when the server froze returns false at its deadline, lands once on SIGCONT, and its retry changes nothing', async () => {
  expect(await cache.messages.cacheMessages('conversation', [{ id: 1, text: 'first' }])).toBe(true);
  server.freeze();
  const embedding = await timed(cache, () => cache.embeddings.cacheEmbedding('user', 'frozen', VECTOR));
  const append = await timed(cache, () => cache.messages.appendMessages('conversation', [{ id: 2, text: 'frozen' }]));
  server.thaw();
  expect([embedding.value, append.value]).toEqual([false, false]);
  expect(embedding.ms).toBeLessThanOrEqual(DEFAULT_DEADLINE_MS + SLACK_MS);
  expect(append.ms).toBeLessThanOrEqual(DEFAULT_DEADLINE_MS + SLACK_MS);

  // both commands were written before the freeze, so the server runs them when it wakes
  const keys = embeddingKeys('user');
  await until(async () => (await inspect.hlen(keys.vectors)) === 1, 2000);
  const messagesKey = conversationKeys('conversation', 0).messages;
  expect(await inspect.lrange(messagesKey, 1, -1)).toEqual([
    JSON.stringify({ id: 1, text: 'first' }),
    JSON.stringify({ id: 2, text: 'frozen' }),
  ]);
  await expectConsistentBookkeeping(inspect, ['user']);

  // the caller saw false and retries: the same entry, the same message id, nothing doubled
  await until(() => cache.breaker.state !== 'open', 2000);
  expect(await cache.embeddings.cacheEmbedding('user', 'frozen', VECTOR)).toBe(true);
  expect(await inspect.hkeys(keys.vectors)).toEqual([embeddingField('default', 'float32', 'frozen')]);
  await cache.messages.cacheMessages('conversation', [
    { id: 1, text: 'first' },
    { id: 2, text: 'frozen' },
  ]);
  await cache.messages.appendMessages('conversation', [{ id: 2, text: 'frozen' }]);
  expect(await cache.messages.getCachedMessages('conversation')).toEqual([
    { id: 1, text: 'first' },
    { id: 2, text: 'frozen' },
  ]);
  await expectConsistentBookkeeping(inspect, ['user']);
});
