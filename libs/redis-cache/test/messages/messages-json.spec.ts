import type { Redis } from 'ioredis';
import { MessageCacheClient, type CachedMessage } from '@wbot/redis-cache';
import { conversationKeys } from '../../src/keys';
import { connectedCacheRedis, inspector, waitUntilReady } from '../../../../test/support/redis-client';
import { RedisServer } from '../../../../test/support/redis-server';
import { messageStats } from '../../../../test/support/cache-stats';
import { expectInputError } from '../support/input-error';

const keysOf = (conversationId: string) => conversationKeys(conversationId, 0);
const quiet = { logger: { warn: () => undefined } };

function messages(count: number, prefix = 'm'): CachedMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}${i}`,
    role: 'user',
    content: `${prefix} text ${i}`,
  }));
}

describe('MessageCacheClient.getCachedMessagesJson', () => {
  let server: RedisServer;
  let connection: Redis;
  let raw: Redis;

  beforeAll(async () => {
    server = await RedisServer.start();
    raw = await inspector(server.url);
  });

  afterAll(async () => {
    // back on the restarted server, for a clean quit
    await waitUntilReady(raw);
    await raw.quit();
    await server.stop();
  });

  beforeEach(async () => {
    await raw.flushall();
    connection = await connectedCacheRedis(server.url);
  });

  // a clean quit: a disconnect leaves an ioredis timer behind
  afterEach(async () => {
    if (connection.status !== 'end') await connection.quit();
  });

  it('gives the JSON text of the cached messages, each exactly as it was cached', async () => {
    const cache = new MessageCacheClient(connection);
    await cache.cacheMessages('c1', messages(2));
    expect(await cache.appendMessages('c1', [{ id: 7, emoji: '🧪', text: 'Grüße "quoted"\n' }])).toBe(true);
    expect(await cache.getCachedMessagesJson('c1')).toBe(
      '[{"id":"m0","role":"user","content":"m text 0"},{"id":"m1","role":"user","content":"m text 1"},' +
        '{"id":7,"emoji":"🧪","text":"Grüße \\"quoted\\"\\n"}]',
    );
  });

  it('parses to what getCachedMessages gives, with the last N messages too', async () => {
    const cache = new MessageCacheClient(connection);
    await cache.cacheMessages('c1', messages(5));
    for (const options of [undefined, { last: 1 }, { last: 3 }, { last: 50 }]) {
      const json = await cache.getCachedMessagesJson('c1', options);
      expect(JSON.parse(json as string)).toEqual(await cache.getCachedMessages('c1', options));
    }
    expect(JSON.parse((await cache.getCachedMessagesJson('c1', { last: 2 })) as string)).toEqual(messages(5).slice(3));
  });

  it("gives '[]' for a conversation cached empty and null for one not cached, counted as a hit and a miss", async () => {
    const cache = new MessageCacheClient(connection);
    await cache.cacheMessages('empty', []);
    expect(await cache.getCachedMessagesJson('empty')).toBe('[]');
    expect(await cache.getCachedMessagesJson('empty', { last: 3 })).toBe('[]');
    expect(await cache.getCachedMessagesJson('never-cached')).toBeNull();
    expect(cache.stats()).toEqual(messageStats({ fills: 1, hits: 2, misses: 1 }));
  });

  it('refreshes the TTL and the recency like any read, so that a read conversation outlives the others', async () => {
    const cache = new MessageCacheClient(connection, { ttlSeconds: 60, maxCachedMessages: 4 });
    await cache.cacheMessages('read', messages(2, 'r'));
    await cache.cacheMessages('other', messages(2, 'o'));
    await raw.pexpire(keysOf('read').messages, 1000);
    await cache.getCachedMessagesJson('read');
    const ttl = await raw.pttl(keysOf('read').messages);
    expect(ttl).toBeGreaterThan(59_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    // the budget is full: the next fill evicts the least recently used, no longer 'read'
    expect(await cache.cacheMessages('third', messages(2, 't'))).toBe(true);
    expect(await raw.exists(keysOf('other').messages)).toBe(0);
    expect(await cache.getCachedMessagesJson('read')).toBe(JSON.stringify(messages(2, 'r')));
  });

  it('rejects bad arguments with RedisCacheInputError naming them', async () => {
    const cache = new MessageCacheClient(connection);
    await expectInputError(() => cache.getCachedMessagesJson(''), 'conversationId');
    await expectInputError(() => cache.getCachedMessagesJson('c1', { last: 0 }), 'options.last');
  });

  it('gives null with the server killed, and never a conversation a failed append may have left stale', async () => {
    const writer = new MessageCacheClient(connection, {}, quiet);
    const readerConnection = await connectedCacheRedis(server.url);
    const reader = new MessageCacheClient(readerConnection, {}, quiet);
    await writer.cacheMessages('c1', messages(2));
    connection.disconnect();
    expect(await writer.appendMessages('c1', messages(1, 'x'))).toBe(false);
    // still cached, as the other client sees, but the writer's append may have reached it: not served
    expect(await reader.getCachedMessagesJson('c1')).toBe(JSON.stringify(messages(2)));
    expect(await writer.getCachedMessagesJson('c1')).toBeNull();
    expect(writer.stats()).toEqual(messageStats({ fills: 1, fallbacks: 1, misses: 1 }));
    await server.kill();
    expect(await reader.getCachedMessagesJson('c1')).toBeNull();
    expect(reader.stats()).toEqual(messageStats({ hits: 1, fallbacks: 1 }));
    await server.restart();
    await waitUntilReady(readerConnection);
    await readerConnection.quit();
  });
});
