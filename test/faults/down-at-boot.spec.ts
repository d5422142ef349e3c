import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  EmbeddingCacheService,
  MessageCacheService,
  RedisCacheHealthIndicator,
  RedisCacheModule,
} from '@wbot/redis-cache';
import { RedisServer } from '../support/redis-server';
import { FAST_BOUND_MS, RECOVERY_BOUND_MS, VECTOR, expectBounded, recordFigures, sleep, until } from './fault-harness';

let local: RedisServer;
let shared: RedisServer;
let app: INestApplicationContext;

beforeAll(async () => {
  [local, shared] = await Promise.all([RedisServer.start(), RedisServer.start()]);
  await Promise.all([local.kill(), shared.kill()]);
});

afterAll(async () => {
  await app?.close();
  await Promise.all([local.stop(), shared.stop()]);
});

it('down at boot: the app starts, calls give their fallback within 5 ms, hits resume within 1.5 s of Redis starting', async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [RedisCacheModule.forRoot({ connections: { local: { url: local.url }, shared: { url: shared.url } } })],
  }).compile();
  moduleRef.useLogger(false);
  const bootStarted = performance.now();
  app = await moduleRef.init();
  const bootMs = performance.now() - bootStarted;
  const embeddings = app.get(EmbeddingCacheService);
  const messages = app.get(MessageCacheService);
  const health = app.get(RedisCacheHealthIndicator);

  const latencies: number[] = [];
  for (let i = 0; i < 200; i++) {
    const started = performance.now();
    const results = await Promise.all([
      embeddings.getCachedEmbedding('user', 'text'),
      embeddings.cacheEmbedding('user', 'text', VECTOR),
      messages.getCachedMessages('conversation'),
      messages.appendMessages('conversation', [{ text: 'hi' }]),
    ]);
    latencies.push(performance.now() - started);
    expect(results).toEqual([null, false, null, false]);
  }
  const down = expectBounded(latencies, FAST_BOUND_MS);
  expect((await health.isHealthy('local'))['redis-local'].status).toBe('down');
  expect(embeddings.connectionState()).toEqual({
    connection: 'local',
    status: expect.stringMatching(/^(re)?connecting$/),
    breaker: 'closed',
  });

  // long enough for the reconnect backoff to reach its 1 s cap
  await sleep(2500);
  await Promise.all([local.restart(), shared.restart()]);
  const [embeddingHitMs, messageHitMs] = await Promise.all([
    until(async () => {
      await embeddings.cacheEmbedding('user', 'text', VECTOR);
      return (await embeddings.getCachedEmbedding('user', 'text')) !== null;
    }, 5000),
    until(async () => {
      await messages.cacheMessages('conversation', [{ text: 'hi' }]);
      return (await messages.getCachedMessages('conversation')) !== null;
    }, 5000),
  ]);
  expect(embeddingHitMs).toBeLessThanOrEqual(RECOVERY_BOUND_MS);
  expect(messageHitMs).toBeLessThanOrEqual(RECOVERY_BOUND_MS);
  expect((await health.isHealthy('local'))['redis-local'].status).toBe('up');
  expect(messages.connectionState()).toEqual({ connection: 'shared', status: 'ready', breaker: 'closed' });
  recordFigures('down-at-boot', {
    bootMs,
    whileDownFourCallsInParallel: down,
    embeddingHitMs,
    messageHitMs,
  });
}, 20_000);
