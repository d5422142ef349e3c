import type { Redis } from 'ioredis';
import { FAIL_FAST_REDIS_OPTIONS } from '@wbot/redis-cache';
import { inspector, waitUntilReady } from '../support/redis-client';
import { RedisServer } from '../support/redis-server';
import {
  RECOVERY_BOUND_MS,
  SLOW_BOUND_MS,
  expectBounded,
  hits,
  load,
  now,
  openCache,
  recordFigures,
  resetClock,
  sleep,
  until,
  type Cache,
} from './fault-harness';

const LOOPS = 4;

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
  inspect.disconnect();
  await server.stop();
});

const fallbacks = () => cache.embeddings.stats().fallbacks + cache.messages.stats().fallbacks;

it('CLIENT KILL: fallbacks only while the client reconnects, by itself, then none', async () => {
  resetClock();
  const traffic = load(cache, LOOPS, 10);
  await sleep(300);
  const before = fallbacks();
  const closed = new Promise((resolve) => cache.client.once('close', resolve));
  const reconnected = new Promise((resolve) => closed.then(() => cache.client.once('ready', resolve)));
  const killedAt = now();
  // SKIPME yes (the default) spares the inspector's own connection
  const killed = (await inspect.call('CLIENT', 'KILL', 'TYPE', 'normal')) as number;
  await reconnected;
  const reconnectMs = now() - killedAt;
  const whileReconnecting = fallbacks() - before;
  const recoveryMs = await until(() => hits(cache), 5000);
  const afterReady = fallbacks();
  await sleep(500);
  await traffic.stop();

  const after = traffic.calls.filter((call) => call.at >= killedAt);
  expect(killed).toBe(1);
  expect(whileReconnecting).toBeGreaterThan(0);
  expect(fallbacks() - afterReady).toBe(0);
  expect(recoveryMs).toBeLessThanOrEqual(RECOVERY_BOUND_MS);
  const latency = expectBounded(
    after.map((call) => call.ms),
    SLOW_BOUND_MS,
  );
  recordFigures('client-kill', { whileReconnecting, reconnectMs, recoveryMs, callsAfterKill: latency });
}, 20_000);

it('the connection that replaces one killed with a command unanswered stays up past socketTimeout (ioredis#2147)', async () => {
  await inspect.call('CLIENT', 'PAUSE', '1000', 'WRITE');
  const write = cache.embeddings.cacheEmbedding('user', 'unanswered', [1]);
  await sleep(20);
  const reconnected = new Promise((resolve) => cache.client.once('ready', resolve));
  await inspect.call('CLIENT', 'KILL', 'TYPE', 'normal');
  expect(await write).toBe(false);
  await inspect.call('CLIENT', 'UNPAUSE');
  await reconnected;
  let closes = 0;
  const count = () => closes++;
  cache.client.on('close', count);
  await sleep((FAIL_FAST_REDIS_OPTIONS.socketTimeout as number) + 300);
  cache.client.off('close', count);
  expect(closes).toBe(0);
  expect(await cache.embeddings.cacheEmbedding('user', 'answered', [1])).toBe(true);
}, 10_000);
