import type { Redis } from 'ioredis';
import { EmbeddingCacheService, MessageCacheService, createCacheRedis } from '@wbot/redis-cache';
import { conversationKeys, embeddingField, embeddingKeys } from '../../libs/redis-cache/src/keys';
import { embeddingStats, messageStats } from '../support/cache-stats';
import { inspector, waitUntilReady } from '../support/redis-client';
import { RedisServer } from '../support/redis-server';
import { ServerMonitor } from '../support/server-monitor';
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
 * matter: the server runs it when it wakes, after the caller was told `false`,
 * but it runs once: when the connection dropped with it unanswered, the
 * reconnect does not send it again. Every write script is idempotent, so a
 * retry of the same write from another client changes nothing more.
 *
 * A replay of an append is invisible in the list (the script skips a message
 * id it has cached), so these tests count what reaches the server instead:
 * MONITOR, or the server's command statistics across a restart.
 */
let server: RedisServer;
let cache: Cache;
let inspect: Redis;
let monitor: ServerMonitor | undefined;
const others: Cache[] = [];

const CONVERSATION = 'conversation';
const FIRST = { id: 1, text: 'first' };
const FROZEN = { id: 2, text: 'frozen' };
const k = conversationKeys(CONVERSATION, 0);
const vectorsKey = embeddingKeys('user').vectors;
const frozenField = embeddingField('default', 'float32', 'frozen');

/** Each write fsynced before its reply: a conversation cached before a SIGKILL is there again after the restart. */
const PERSISTENT = ['--appendonly', 'yes', '--appendfsync', 'always'];

async function start(serverArgs: string[] = []): Promise<void> {
  server = await RedisServer.start(serverArgs);
  cache = openCache(server.url);
  await waitUntilReady(cache.client);
  inspect = await inspector(server.url);
}

afterEach(async () => {
  monitor?.stop();
  monitor = undefined;
  for (const other of others.splice(0)) await other.close();
  await cache?.close();
  inspect?.disconnect();
  await server?.stop();
});

/**
 * Both caches on a client whose calls wait for their replies far longer than a
 * test takes: they are still unanswered when the client goes away, however
 * slow the machine. With the library's deadline and command timeout they could
 * fail first, and the settling would send its clear of the conversation behind
 * them.
 */
function openPatientWriter(url: string) {
  const client = createCacheRedis(url, { commandTimeout: 60_000 });
  const runtime = { deadlineMs: 60_000, logger: { warn: () => undefined } };
  return {
    client,
    embeddings: new EmbeddingCacheService(client, {}, runtime),
    messages: new MessageCacheService(client, { maxCachedMessages: 100_000 }, runtime),
  };
}

/** EVAL and EVALSHA calls the server ran since it started. */
async function scriptCallsSinceStart(): Promise<number> {
  const info = await inspect.info('commandstats');
  const calls = (command: string) => Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  return calls('eval') + calls('evalsha');
}

/** Everything a write could have changed in the conversation and the embedding, but the LRU scores. */
async function cachedState() {
  const vectors = await inspect.hgetallBuffer(vectorsKey);
  return {
    list: await inspect.lrange(k.messages, 0, -1),
    ids: (await inspect.smembers(k.ids)).sort(),
    sizes: await inspect.hgetall(k.sizes),
    total: await inspect.get(k.total),
    vectors: Object.fromEntries(Object.entries(vectors).map(([field, bytes]) => [field, bytes.toString('hex')])),
  };
}

it('a write made while Redis is down returns false and is never sent, not even after Redis is back', async () => {
  await start(PERSISTENT);
  expect(await cache.messages.cacheMessages(CONVERSATION, [FIRST])).toBe(true);
  inspect.disconnect();
  await server.kill();
  await until(() => cache.client.status !== 'ready', 1000, 1);

  expect(await cache.embeddings.cacheEmbedding('user', 'while down', VECTOR)).toBe(false);
  expect(await cache.messages.appendMessages(CONVERSATION, [{ id: 2, text: 'while down' }])).toBe(false);

  // the restarted server loads the conversation again: a replayed append would find it cached, and land
  await server.restart();
  inspect = await inspector(server.url);
  await waitUntilReady(cache.client);
  // the settling clears the conversation the failed append may have left stale: it was there, so it counts one
  await until(() => cache.messages.stats().clears === 1, 2000);
  await sleep(200);

  // that clear is the one script the restarted server ran: neither write was sent to it
  expect(await scriptCallsSinceStart()).toBe(1);
  expect(await inspect.keys('*')).toEqual([k.total]);
  expect(await inspect.get(k.total)).toBe('0');
  expect(cache.messages.stats()).toEqual(messageStats({ fills: 1, clears: 1, fallbacks: 1 }));
  expect(cache.embeddings.stats()).toEqual(embeddingStats({ fallbacks: 1 }));
});

it('a write on the wire when the server froze lands once on SIGCONT: the reconnect after the connection dropped resends nothing', async () => {
  await start();
  monitor = await ServerMonitor.attach(inspect);
  expect(await cache.messages.cacheMessages(CONVERSATION, [FIRST])).toBe(true);
  server.freeze();
  const embedding = await timed(cache, () => cache.embeddings.cacheEmbedding('user', 'frozen', VECTOR));
  const append = await timed(cache, () => cache.messages.appendMessages(CONVERSATION, [FROZEN]));
  expect([embedding.value, append.value]).toEqual([false, false]);
  expect(embedding.ms).toBeLessThanOrEqual(DEFAULT_DEADLINE_MS + SLACK_MS);
  expect(append.ms).toBeLessThanOrEqual(DEFAULT_DEADLINE_MS + SLACK_MS);

  // The connection drops with both writes, and the settling's clear of the conversation, unanswered (socketTimeout
  // drops it so after 2 s; here as soon as the clear, corked in this tick like any call, has left): exactly the
  // commands autoResendUnfulfilledCommands would send again.
  await new Promise((resolve) => setImmediate(resolve));
  cache.client.stream.destroy();
  await until(() => cache.client.status !== 'ready', 1000, 1);
  // ioredis resends before it emits 'ready'; the settling starts on 'ready' and sends its clear at once
  const reconnected = new Promise((resolve) => cache.client.once('ready', resolve));
  server.thaw();
  await reconnected;
  await monitor.caughtUp(cache.client);

  // the server ran each write once, from the dropped socket, then the clear from it and the settling's clear on the
  // new connection; a replay would show as a second embeddingSet and messageAppend
  expect(monitor.scripts()).toEqual(['messageFill', 'embeddingSet', 'messageAppend', 'messageClear', 'messageClear']);
  expect(monitor.scriptRuns()[2].args.slice(-1)).toEqual([JSON.stringify(FROZEN)]);
  expect(monitor.calledByScripts('RPUSH').filter((args) => args.includes(JSON.stringify(FROZEN)))).toEqual([
    [k.messages, JSON.stringify(FROZEN)],
  ]);

  // the embedding stays, once; the conversation, which the append may have left stale for this client, is gone
  expect(await inspect.hkeys(vectorsKey)).toEqual([frozenField]);
  expect(await inspect.lrange(k.messages, 0, -1)).toEqual([]);
  // the bucket is empty: no script keeps a total for it (a bucket without lru and sizes has no lists)
  expect((await inspect.keys('*')).sort()).toEqual([vectorsKey, embeddingKeys('user').lru].sort());
  expect(cache.messages.stats()).toEqual(messageStats({ fills: 1, fallbacks: 1 }));
  expect(cache.embeddings.stats()).toEqual(embeddingStats({ fallbacks: 1 }));
  await expectConsistentBookkeeping(inspect, ['user']);
});

it('a write on the wire when the server froze lands once on SIGCONT, and a retry of it from a fresh client changes nothing', async () => {
  await start();
  monitor = await ServerMonitor.attach(inspect);
  expect(await cache.messages.cacheMessages(CONVERSATION, [FIRST])).toBe(true);
  const writer = openPatientWriter(server.url);
  await waitUntilReady(writer.client);
  server.freeze();
  const embedding = writer.embeddings.cacheEmbedding('user', 'frozen', VECTOR);
  const append = writer.messages.appendMessages(CONVERSATION, [FROZEN]);
  // both are on the wire (the connection is ready, so they are written at once); then their client goes away, as
  // with a process that died, and leaves nothing behind that could clear or resend anything
  await new Promise((resolve) => setImmediate(resolve));
  writer.client.disconnect();
  writer.client.stream.destroy();
  expect(await Promise.all([embedding, append])).toEqual([false, false]);
  server.thaw();

  await until(async () => (await inspect.llen(k.messages)) === 3, 2000);
  const landed = await cachedState();
  expect(landed.list.slice(1)).toEqual([JSON.stringify(FIRST), JSON.stringify(FROZEN)]);
  expect(landed.ids).toEqual(['', '1', '2']);
  expect(landed.sizes).toEqual({ [CONVERSATION]: '2' });
  expect(landed.total).toBe('2');
  expect(Object.keys(landed.vectors)).toEqual([frozenField]);

  // the caller saw false and retries, from another client: same entry, same message id, on the conversation as the
  // landed append left it
  const retry = openCache(server.url);
  others.push(retry);
  await waitUntilReady(retry.client);
  expect(await retry.embeddings.cacheEmbedding('user', 'frozen', VECTOR)).toBe(true);
  expect(await retry.messages.appendMessages(CONVERSATION, [FROZEN])).toBe(true);
  expect(await cachedState()).toEqual(landed);
  expect(await retry.messages.getCachedMessages(CONVERSATION)).toEqual([FIRST, FROZEN]);
  expect(await retry.embeddings.getCachedEmbedding('user', 'frozen')).toEqual(VECTOR);
  expect(retry.messages.stats()).toEqual(messageStats({ appends: 1, hits: 1 }));
  expect(retry.embeddings.stats()).toEqual(embeddingStats({ writes: 1, hits: 1 }));

  // the frozen append ran once and the retry once, and only the first of them pushed the message
  await monitor.caughtUp(retry.client);
  expect(monitor.scripts()).toEqual([
    'messageFill',
    'embeddingSet',
    'messageAppend',
    'embeddingSet',
    'messageAppend',
    'messageRead',
    'embeddingGet',
  ]);
  expect(monitor.calledByScripts('RPUSH').filter((args) => args.includes(JSON.stringify(FROZEN)))).toEqual([
    [k.messages, JSON.stringify(FROZEN)],
  ]);
  await expectConsistentBookkeeping(inspect, ['user']);
});
