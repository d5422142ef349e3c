import type { Redis } from 'ioredis';
import { inspector, waitUntilReady } from '../support/redis-client';
import { RedisServer } from '../support/redis-server';
import { VECTOR, openCache, type Cache } from './fault-harness';

let server: RedisServer;
let cache: Cache;

beforeAll(async () => {
  server = await RedisServer.start();
  cache = openCache(server.url);
  await waitUntilReady(cache.client);
});

afterAll(async () => {
  await cache.close();
  await server.stop();
});

/** Every operation once, each expected to succeed: not one may give its fallback. */
async function everyOperation(): Promise<unknown[]> {
  return [
    await cache.embeddings.cacheEmbedding('user', 'text', VECTOR),
    await cache.embeddings.getCachedEmbedding('user', 'text'),
    await cache.embeddings.clearUser('user'),
    await cache.messages.cacheMessages('conversation', [{ id: 1 }]),
    await cache.messages.appendMessages('conversation', [{ id: 2 }]),
    await cache.messages.getCachedMessages('conversation'),
    await cache.messages.clearConversation('conversation'),
  ];
}

const EXPECTED = [true, VECTOR, true, true, true, [{ id: 1 }, { id: 2 }], true];

it('after a restart, with the script cache empty, every operation works on the first try', async () => {
  expect(await everyOperation()).toEqual(EXPECTED);
  await server.restart();
  await waitUntilReady(cache.client);
  expect(await everyOperation()).toEqual(EXPECTED);
  expect(cache.embeddings.stats().fallbacks + cache.messages.stats().fallbacks).toBe(0);
  expect(cache.warnings).toEqual([]);
});

it('after SCRIPT FLUSH on the same connection, every operation works on the first try', async () => {
  const inspect: Redis = await inspector(server.url);
  await inspect.script('FLUSH');
  inspect.disconnect();
  expect(await everyOperation()).toEqual(EXPECTED);
  expect(cache.embeddings.stats().fallbacks + cache.messages.stats().fallbacks).toBe(0);
  expect(cache.warnings).toEqual([]);
});
