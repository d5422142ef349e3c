import type { Redis } from 'ioredis';
import { MessageCacheClient } from '@wbot/redis-cache';
import { OpossumConnectionBreaker } from '../../src/resilience/opossum-breaker';
import { CIRCUIT_BREAKER_DEFAULTS, SETTLE_RETRY_MS } from '../../src/options/defaults';
import { conversationKeys } from '../../src/keys';
import { connectedCacheRedis, inspector } from '../../../../test/support/redis-client';
import { RedisServer } from '../../../../test/support/redis-server';
import { until } from '../../../../test/support/until';

/**
 * A warning that repeats while a failure lasts is throttled per kind: at most
 * one line per 10 s for each, and one kind never hides another. The server here
 * answers, but refuses every write (a master that lost its replicas, with
 * `min-replicas-to-write`), so the connection stays ready and both the calls and
 * the background clear of a failed write keep failing.
 */
let server: RedisServer;
let inspect: Redis;
let client: Redis;
let breaker: OpossumConnectionBreaker;

beforeAll(async () => {
  server = await RedisServer.start();
  inspect = await inspector(server.url);
  client = await connectedCacheRedis(server.url);
  breaker = new OpossumConnectionBreaker('shared', { ...CIRCUIT_BREAKER_DEFAULTS });
  breaker.follow(client);
});

afterAll(async () => {
  breaker.shutdown();
  client.disconnect();
  inspect.disconnect();
  await server.stop();
});

/** How many commands the server refused for want of replicas, from its own error stats. */
async function refusals(): Promise<number> {
  const stats = await inspect.info('errorstats');
  return Number(/errorstat_NOREPLICAS:count=(\d+)/.exec(stats)?.[1] ?? 0);
}

describe('repeated warnings, while Redis refuses the writes and the clears that follow them', () => {
  const WATCH_MS = 2600;

  it('log one line per kind (a call that fell back, the settling that retries), however often each repeats', async () => {
    const lines: string[] = [];
    const cache = new MessageCacheClient(client, {}, { breaker, logger: { warn: (line) => lines.push(line) } });
    expect(await cache.cacheMessages('c', [{ id: 'm1' }])).toBe(true);
    await inspect.config('SET', 'min-replicas-to-write', '1');
    try {
      expect(await cache.appendMessages('c', [{ id: 'm2' }])).toBe(false);
      // more calls that fall back: every read script writes its touch, and is refused too
      for (let i = 0; i < 5; i++) expect(await cache.getCachedMessages(`other-${i}`)).toBeNull();
      const before = await refusals();
      await new Promise((resolve) => setTimeout(resolve, WATCH_MS));
      // the settling retried its clear every SETTLE_RETRY_MS all along
      expect((await refusals()) - before).toBeGreaterThanOrEqual(WATCH_MS / SETTLE_RETRY_MS - 2);
    } finally {
      await inspect.config('SET', 'min-replicas-to-write', '0');
    }
    expect(lines).toEqual([
      expect.stringMatching(/^Redis connection "shared" failed during appendMessages: NOREPLICAS /),
      'Redis connection "shared": settling 1 conversations after failed writes: a clear failed, retrying',
    ]);
    expect(breaker.state).toBe('closed');
    // once writes are taken again, the settling clears the conversation and says nothing more
    await until(async () => (await inspect.exists(conversationKeys('c', 0).messages)) === 0, 2000);
    expect(lines).toHaveLength(2);
  }, 10_000);
});
