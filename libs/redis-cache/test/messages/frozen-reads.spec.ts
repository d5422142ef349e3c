import { Redis } from 'ioredis';
import { MessageCacheClient, createCacheRedis } from '@wbot/redis-cache';
import { waitUntilReady } from '../../../../test/support/redis-client';
import { RedisServer } from '../../../../test/support/redis-server';

/**
 * A read sends its commands without a `commandTimeout` timer of ioredis's
 * (`sendUntimed`): the read's own deadline is the one timer that bounds it. So
 * on a frozen server (SIGSTOP: the socket stays open, nothing answers) every
 * read still gives its fallback within the deadline, on the library's client
 * (whose commandTimeout, 1 s, is far above it) and on an app's client that has
 * none at all.
 */

const DEADLINE_MS = 100;
/** Timers and callbacks run late on a machine shared with Redis and other Jest workers: an upper bound only. */
const BOUND_MS = DEADLINE_MS + 150;

const MESSAGES = [
  { id: 'm1', role: 'user', content: 'hello' },
  { id: 'm2', role: 'assistant', content: 'hi' },
];

async function timed<T>(call: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await call();
  return { value, ms: performance.now() - started };
}

describe.each([
  ['the library client (commandTimeout 1 s)', (url: string) => createCacheRedis(url)],
  ['an app client with no commandTimeout', (url: string) => new Redis(url, { maxRetriesPerRequest: 0 })],
])('reads on a frozen server, on %s', (_, connect) => {
  let server: RedisServer;
  let client: Redis;
  let cache: MessageCacheClient;
  const warnings: string[] = [];

  beforeAll(async () => {
    server = await RedisServer.start();
    client = connect(server.url);
    client.on('error', () => undefined);
    await waitUntilReady(client);
    cache = new MessageCacheClient(
      client,
      {},
      { deadlineMs: DEADLINE_MS, logger: { warn: (line) => warnings.push(line) } },
    );
    expect(await cache.cacheMessages('c', MESSAGES)).toBe(true);
    // each read below is a hit while the server answers
    expect(await cache.getCachedMessages('c')).toEqual(MESSAGES);
    server.freeze();
  });

  afterAll(async () => {
    server.thaw();
    cache.close();
    client.disconnect();
    await server.stop();
  });

  it('getCachedMessages gives null within the deadline', async () => {
    const { value, ms } = await timed(() => cache.getCachedMessages('c'));
    expect(value).toBeNull();
    expect(ms).toBeLessThan(BOUND_MS);
  });

  it('getCachedMessagesJson gives null within the deadline', async () => {
    const { value, ms } = await timed(() => cache.getCachedMessagesJson('c', { last: 1 }));
    expect(value).toBeNull();
    expect(ms).toBeLessThan(BOUND_MS);
  });

  it("getOrLoadMessages gives the loader's messages, its read within the deadline", async () => {
    const { value, ms } = await timed(() => cache.getOrLoadMessages('c', async () => [{ id: 'loaded' }]));
    expect(value).toEqual([{ id: 'loaded' }]);
    expect(ms).toBeLessThan(BOUND_MS);
  });

  it('counted every read that timed out as a fallback and logged it as a timeout', () => {
    expect(cache.stats().fallbacks).toBe(3);
    expect(warnings).toEqual([
      `Redis connection "shared" failed during getCachedMessages: no reply within ${DEADLINE_MS} ms`,
    ]);
  });
});
