import type { Command, Redis } from 'ioredis';
import { EmbeddingCacheService, MessageCacheService } from '@wbot/redis-cache';
import { conversationKeys, embeddingField, embeddingKeys } from '../../libs/redis-cache/src/keys';
import { EMBEDDING_DEFAULTS, MESSAGE_DEFAULTS } from '../../libs/redis-cache/src/options/defaults';
import { embeddingStats, messageStats } from '../support/cache-stats';
import { connectedCacheRedis, inspector, waitUntilReady } from '../support/redis-client';
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

/** A server time in the LRU's unit (microseconds), `seconds` before now: an LRU score that old has expired. */
async function microsecondsAgo(seconds: number): Promise<number> {
  const [now] = await inspect.time();
  return (Number(now) - seconds) * 1_000_000;
}

/**
 * Holds every command `client` sends from its second script call on (EVALSHA or
 * EVAL) until `between` has run: what another client may do while a script
 * refused with NOSCRIPT waits a round trip to be sent again. Returns the undo.
 */
function interleave(client: Redis, between: () => Promise<unknown>): () => void {
  const send = client.sendCommand.bind(client);
  let scripts = 0;
  let held: Promise<unknown> | undefined;
  client.sendCommand = (command: Command) => {
    if (command.name.startsWith('eval') && ++scripts === 2) held = between();
    if (!held) return send(command);
    void held.then(() => send(command));
    return command.promise;
  };
  return () => {
    client.sendCommand = send;
  };
}

it('after SCRIPT FLUSH, the read of several texts never serves an entry its script found expired', async () => {
  const embeddings = new EmbeddingCacheService(cache.client, {}, { logger: { warn: () => undefined } });
  const keys = embeddingKeys('expiry');
  const field = (text: string) => embeddingField('default', 'float32', text);
  const entries = [
    { text: 'old', embedding: VECTOR },
    { text: 'fresh', embedding: OTHER },
  ];
  expect(await embeddings.cacheEmbeddings('expiry', entries)).toBe(true);
  // the pipeline's script has run on this connection, so ioredis would send it as EVALSHA from now on
  expect(await embeddings.getCachedEmbeddings('expiry', ['old', 'fresh'])).toEqual([VECTOR, OTHER]);
  // 'old' was last used longer ago than the TTL: expired by the scripts' rules, though the hash still holds it
  await inspect.zadd(keys.lru, await microsecondsAgo(EMBEDDING_DEFAULTS.ttlSeconds + 1), field('old'));
  await inspect.script('FLUSH');
  const refused = await noscriptErrors();

  expect(await embeddings.getCachedEmbeddings('expiry', ['old', 'fresh'])).toEqual([null, OTHER]);
  expect((await noscriptErrors()) - refused).toBe(1);
  // the script purged it, and the read came after the purge
  expect(await inspect.hkeys(keys.vectors)).toEqual([field('fresh')]);
  expect(embeddings.stats()).toEqual(embeddingStats({ writes: 2, hits: 3, misses: 1 }));
});

it('after SCRIPT FLUSH, a read never serves a conversation its script found expired, even refilled before the retry', async () => {
  const quiet = { logger: { warn: () => undefined } };
  const readerClient = await connectedCacheRedis(server.url);
  const writerClient = await connectedCacheRedis(server.url);
  const reader = new MessageCacheService(readerClient, {}, quiet);
  const writer = new MessageCacheService(writerClient, {}, quiet);
  try {
    expect(await writer.cacheMessages('expiring', [{ id: 'old' }])).toBe(true);
    // the read script has run on the reader's connection, so ioredis would send it as EVALSHA from now on
    expect(await reader.getCachedMessages('expiring')).toEqual([{ id: 'old' }]);
    // last used longer ago than the TTL: expired by the scripts' rules, though its list is still there
    const { lru } = conversationKeys('expiring', 0);
    await inspect.zadd(lru, await microsecondsAgo(MESSAGE_DEFAULTS.ttlSeconds + 1), 'expiring');
    await inspect.script('FLUSH');
    const refused = await noscriptErrors();

    // the reader's script is refused; before it is sent again, the writer's fill purges the expired copy and
    // caches the conversation afresh
    const undo = interleave(readerClient, () => writer.cacheMessages('expiring', [{ id: 'new' }]));
    const read = await reader.getCachedMessages('expiring');
    undo();
    expect(read).toEqual([{ id: 'new' }]);
    // the reader's read script and the writer's fill script, each refused once
    expect((await noscriptErrors()) - refused).toBe(2);
    expect(reader.stats()).toEqual(messageStats({ hits: 2 }));
  } finally {
    readerClient.disconnect();
    writerClient.disconnect();
  }
});
