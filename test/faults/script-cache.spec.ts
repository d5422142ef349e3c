import type { Redis } from 'ioredis';
import { EmbeddingCacheService } from '@wbot/redis-cache';
import { embeddingField, embeddingKeys } from '../../libs/redis-cache/src/keys';
import { embeddingStats } from '../support/cache-stats';
import { inspector, waitUntilReady } from '../support/redis-client';
import { RedisServer } from '../support/redis-server';
import { VECTOR, openCache, type Cache } from './fault-harness';

let server: RedisServer;
let cache: Cache;
let inspect: Redis;

beforeAll(async () => {
  server = await RedisServer.start();
  cache = openCache(server.url);
  await waitUntilReady(cache.client);
  inspect = await inspector(server.url);
});

afterAll(async () => {
  await cache.close();
  inspect?.disconnect();
  await server.stop();
});

const OTHER = [4, 3, 2, 1];

/**
 * Every operation once, each expected to succeed: not one may give its fallback.
 * The read of several texts is a pipeline (a script that keeps the LRU, then a
 * native HMGET); the read of one is a script alone.
 */
async function everyOperation(): Promise<unknown[]> {
  return [
    await cache.embeddings.cacheEmbedding('user', 'text', VECTOR),
    await cache.embeddings.cacheEmbedding('user', 'other', OTHER),
    await cache.embeddings.getCachedEmbedding('user', 'text'),
    await cache.embeddings.getCachedEmbeddings('user', ['text', 'missing', 'other']),
    await cache.embeddings.clearUser('user'),
    await cache.messages.cacheMessages('conversation', [{ id: 1 }]),
    await cache.messages.appendMessages('conversation', [{ id: 2 }]),
    await cache.messages.getCachedMessages('conversation'),
    await cache.messages.clearConversation('conversation'),
  ];
}

const EXPECTED = [true, true, VECTOR, [VECTOR, null, OTHER], true, true, true, [{ id: 1 }, { id: 2 }], true];
/** The scripts `everyOperation` runs: embeddingSet, Get, Touch, Clear, and messageFill, Append, Read, Clear. */
const SCRIPTS_RUN = 8;

/** How many commands the server refused with NOSCRIPT since it started. */
async function noscriptErrors(): Promise<number> {
  const info = await inspect.info('errorstats');
  return Number(/^errorstat_NOSCRIPT:count=(\d+)/m.exec(info)?.[1] ?? 0);
}

it('after a restart, with the script cache empty, every operation works on the first try', async () => {
  expect(await everyOperation()).toEqual(EXPECTED);
  inspect.disconnect();
  await server.restart();
  await waitUntilReady(cache.client);
  inspect = await inspector(server.url);
  expect(await everyOperation()).toEqual(EXPECTED);
  expect(cache.embeddings.stats().fallbacks + cache.messages.stats().fallbacks).toBe(0);
  expect(cache.warnings).toEqual([]);
});

it('after SCRIPT FLUSH on the same connection, every operation works on the first try', async () => {
  // every script has run on this connection since it connected, so ioredis sends each as EVALSHA now
  expect(await everyOperation()).toEqual(EXPECTED);
  await inspect.script('FLUSH');
  const refused = await noscriptErrors();
  expect(await everyOperation()).toEqual(EXPECTED);
  // each script met NOSCRIPT once, and its operation went through anyway
  expect((await noscriptErrors()) - refused).toBe(SCRIPTS_RUN);
  expect(cache.embeddings.stats().fallbacks + cache.messages.stats().fallbacks).toBe(0);
  expect(cache.warnings).toEqual([]);
});

it('after SCRIPT FLUSH, the read of several texts (a script and an HMGET in one pipeline) returns its exact hits and records them', async () => {
  const warnings: string[] = [];
  const embeddings = new EmbeddingCacheService(cache.client, {}, { logger: { warn: (line) => warnings.push(line) } });
  const vectors: Record<string, number[]> = { a: [1, 2, 3], b: [-4, 5.5, 6], c: [0.25, -0.75, 8] };
  const field = (text: string) => embeddingField('default', 'float32', text);
  const lru = embeddingKeys('batch').lru;

  expect(
    await embeddings.cacheEmbeddings(
      'batch',
      Object.entries(vectors).map(([text, embedding]) => ({ text, embedding })),
    ),
  ).toBe(true);
  // the pipeline's script runs on this connection, so ioredis sends it as EVALSHA from now on
  expect(await embeddings.getCachedEmbeddings('batch', ['a', 'b'])).toEqual([vectors.a, vectors.b]);
  expect(await inspect.zrange(lru, 0, '-1')).toEqual([field('c'), field('a'), field('b')]);

  await inspect.script('FLUSH');
  const refused = await noscriptErrors();
  expect(await embeddings.getCachedEmbeddings('batch', ['a', 'missing', 'c'])).toEqual([vectors.a, null, vectors.c]);
  expect(await embeddings.getCachedEmbeddings('batch', ['c', 'b'], { asFloat32Array: true })).toEqual([
    Float32Array.from(vectors.c),
    Float32Array.from(vectors.b),
  ]);
  // the server refused the script once, in the first read's pipeline, and the read got through anyway
  expect((await noscriptErrors()) - refused).toBe(1);
  // the refused script ran after all: both reads made their hits the most recently used, in order
  expect(await inspect.zrange(lru, 0, '-1')).toEqual([field('a'), field('c'), field('b')]);
  expect(embeddings.stats()).toEqual(embeddingStats({ writes: 3, hits: 6, misses: 1 }));
  expect(warnings).toEqual([]);
});
