import { RedisService } from '@liaoliaots/nestjs-redis';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConversationRepository } from '../src/database/conversation.repository';
import type { SqliteConversationRepository } from '../src/database/sqlite-conversation.repository';
import { bootDemo } from './support/demo-app';
import { waitUntilReady } from './support/redis-client';
import { RedisServer } from './support/redis-server';

async function connectionsReady(app: INestApplication): Promise<void> {
  const redis = app.get(RedisService);
  await Promise.all([waitUntilReady(redis.getOrThrow('local')), waitUntilReady(redis.getOrThrow('shared'))]);
}

describe('demo health endpoints', () => {
  let local: RedisServer;
  let shared: RedisServer;
  let app: INestApplication;

  beforeAll(async () => {
    [local, shared] = await Promise.all([RedisServer.start(), RedisServer.start()]);
    app = await bootDemo({ REDIS_URL: local.url, REDIS_SHARED_URL: shared.url });
    await connectionsReady(app);
  });
  afterAll(async () => {
    await app.close();
    await Promise.all([local.stop(), shared.stop()]);
  });

  it('GET /health/live answers 200 without checking any dependency', async () => {
    const response = await request(app.getHttpServer()).get('/health/live').expect(200);
    expect(response.body).toEqual({ status: 'ok', info: {}, error: {}, details: {} });
  });

  it('GET /health/ready reports both connections up with their latency', async () => {
    const response = await request(app.getHttpServer()).get('/health/ready').expect(200);
    expect(response.body.status).toBe('ok');
    for (const key of ['redis-local', 'redis-shared']) {
      expect(response.body.info[key]).toMatchObject({ status: 'up', state: 'ready', latencyMs: expect.any(Number) });
    }
  });

  it('GET /health/ready answers 503 naming the connection that is down, and 200 once it is back', async () => {
    await shared.kill();
    const down = await request(app.getHttpServer()).get('/health/ready').expect(503);
    expect(down.body.status).toBe('error');
    expect(down.body.info['redis-local'].status).toBe('up');
    expect(down.body.error['redis-shared'].status).toBe('down');

    await shared.restart();
    await waitUntilReady(app.get(RedisService).getOrThrow('shared'), 10_000);
    const back = await request(app.getHttpServer()).get('/health/ready').expect(200);
    expect(back.body.info['redis-shared'].status).toBe('up');
  });
});

describe('graceful shutdown', () => {
  let local: RedisServer;
  let shared: RedisServer;
  beforeAll(async () => {
    [local, shared] = await Promise.all([RedisServer.start(), RedisServer.start()]);
  });
  afterAll(async () => {
    await Promise.all([local.stop(), shared.stop()]);
  });

  it('reports readiness down as shutting down, lets the in-flight request finish, then closes Redis and SQLite', async () => {
    const app = await bootDemo({
      REDIS_URL: local.url,
      REDIS_SHARED_URL: shared.url,
      EMBEDDING_LATENCY_MS: '600',
      SHUTDOWN_DELAY_MS: '400',
    });
    await connectionsReady(app);
    await app.listen(0, '127.0.0.1');
    const server = app.getHttpServer();
    const inFlight = request(server)
      .post('/users/u/embeddings/embed')
      .send({ texts: ['slow'] });
    const answered = inFlight.then((response) => response);
    await sleep(100);

    const closed = app.close();
    await sleep(100);
    const ready = await request(server).get('/health/ready').expect(503);
    expect(ready.body.error.app).toEqual({ status: 'down', state: 'shutting down' });

    const response = await answered;
    expect(response.status).toBe(200);
    expect(response.body.cached).toEqual([false]);
    await closed;
    // QUIT has been answered; the socket closes right after
    const clients = [app.get(RedisService).getOrThrow('local'), app.get(RedisService).getOrThrow('shared')];
    await Promise.all(
      clients.map((client) => client.status === 'end' || new Promise((end) => client.once('end', end))),
    );
    expect(clients.map((client) => client.status)).toEqual(['end', 'end']);
    expect((app.get(ConversationRepository) as SqliteConversationRepository).isOpen).toBe(false);
    expect(server.listening).toBe(false);
  });
});

describe('demo configuration', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('uses the local Redis for messages when REDIS_SHARED_URL is absent', async () => {
    const app = await bootDemo({ REDIS_URI: redis.url });
    await connectionsReady(app);
    const clients = app.get(RedisService);
    expect(clients.getOrThrow('shared').options.port).toBe(redis.port);
    expect(clients.getOrThrow('local').options.port).toBe(redis.port);
    await app.close();
  });

  it('passes the limits from the environment to the library', async () => {
    const app = await bootDemo({
      REDIS_URL: redis.url,
      MAX_ENTRIES_PER_USER: '12',
      EMBEDDING_TTL_SECONDS: '34',
      MAX_CACHED_MESSAGES: '56',
      MESSAGES_TTL_SECONDS: '78',
    });
    const { EmbeddingCacheService, MessageCacheService } = await import('@wbot/redis-cache');
    expect(app.get(EmbeddingCacheService).options).toMatchObject({ maxEntriesPerUser: 12, ttlSeconds: 34 });
    expect(app.get(MessageCacheService).options).toMatchObject({ maxCachedMessages: 56, ttlSeconds: 78 });
    await app.close();
  });

  it.each([
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL must be a redis:// or rediss:// URL'],
    [{ REDIS_URL: 'redis://x', REDIS_SHARED_URL: 'http://x' }, 'REDIS_SHARED_URL must be a redis:// or rediss:// URL'],
    [{ REDIS_URL: 'redis://x', MAX_CACHED_MESSAGES: 'many' }, 'MAX_CACHED_MESSAGES must be an integer number'],
    [{ REDIS_URL: 'redis://x', MAX_ENTRIES_PER_USER: '0' }, 'MAX_ENTRIES_PER_USER must not be less than 1'],
    [{ REDIS_URL: 'redis://x', PORT: '70000' }, 'PORT must not be greater than 65535'],
    [{}, 'REDIS_URL, REDIS_URI, REDIS_CLUSTER_NODES or REDIS_SENTINELS must be set'],
  ])('refuses to start on a bad environment (%#), naming the variable', async (environment, message) => {
    await expect(bootDemo(environment)).rejects.toThrow(message);
  });
});
