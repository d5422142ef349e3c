import type { Redis } from 'ioredis';
import { DEFAULT_DEADLINE_MS, MessageCacheClient, createCacheRedis } from '@wbot/redis-cache';
import { OpossumConnectionBreaker } from '../../libs/redis-cache/src/resilience/opossum-breaker';
import { CIRCUIT_BREAKER_DEFAULTS } from '../../libs/redis-cache/src/options/defaults';
import { conversationKeys } from '../../libs/redis-cache/src/keys';
import { inspector, waitUntilReady } from '../support/redis-client';
import { RedisServer } from '../support/redis-server';
import { until } from '../support/until';
import { SLACK_MS } from './fault-harness';

/**
 * The settling's clear of a failed write on a frozen server (SIGSTOP: the socket
 * stays open, nothing answers). It runs like any call: bounded by the deadline,
 * and counted by the breaker. The client here has no command or socket timeout
 * of its own, as an app's client may not, so nothing but the cache's deadline
 * ends a clear that gets no reply.
 */
let server: RedisServer;
let inspect: Redis;

beforeAll(async () => {
  server = await RedisServer.start();
  inspect = await inspector(server.url);
});

afterAll(async () => {
  inspect.disconnect();
  await server.stop();
});

it('a clear sent to a frozen server gives up at its deadline, counts in the breaker, and settles after SIGCONT', async () => {
  const FROZEN_MS = 1500;
  const client = createCacheRedis(server.url, { commandTimeout: undefined, socketTimeout: undefined });
  const breaker = new OpossumConnectionBreaker('shared', { ...CIRCUIT_BREAKER_DEFAULTS });
  breaker.follow(client);
  const warnings: { at: number; line: string }[] = [];
  const cache = new MessageCacheClient(
    client,
    {},
    { breaker, logger: { warn: (line) => warnings.push({ at: performance.now(), line }) } },
  );
  try {
    await waitUntilReady(client);
    expect(await cache.cacheMessages('c', [{ id: 'm1' }])).toBe(true);

    server.freeze();
    let thawed = false;
    try {
      // the append times out and marks the conversation; its clear goes out at once, to the same frozen server
      expect(await cache.appendMessages('c', [{ id: 'm2' }])).toBe(false);
      const failedAt = performance.now();
      await new Promise((resolve) => setTimeout(resolve, FROZEN_MS));
      const settling = warnings.filter(({ line }) => /settling/.test(line));
      expect(settling.map(({ line }) => line)).toEqual([
        'Redis connection "shared": settling 1 conversations after failed writes: a clear failed, retrying',
      ]);
      // the clear gave up at its own deadline, while the server was still frozen
      expect(settling[0].at - failedAt).toBeLessThanOrEqual(DEFAULT_DEADLINE_MS + SLACK_MS);
      // the append and the clears that followed failed in a row: the breaker opened with no other call made
      expect(breaker.state).toBe('open');
      server.thaw();
      thawed = true;
    } finally {
      if (!thawed) server.thaw();
    }

    // back: the settling clears the conversation, and the cache serves it again once filled
    await until(async () => (await inspect.exists(conversationKeys('c', 0).messages)) === 0, 3000);
    await until(async () => (await cache.cacheMessages('c', [{ id: 'm1' }, { id: 'm2' }])) === true, 3000);
    expect(await cache.getCachedMessages('c')).toEqual([{ id: 'm1' }, { id: 'm2' }]);
  } finally {
    breaker.shutdown();
    client.disconnect();
  }
}, 15_000);
