// A brand-new Nest 11 app using the packed @wbot/redis-cache, as an outside user would. scripts/verify-pack.js
// installs the tarball next to it, compiles it and runs it against a private redis-server whose base URL it
// passes in REDIS_URL. Prints one line per check and exits non-zero at the first failure.
import 'reflect-metadata';
import { deepStrictEqual, rejects, strictEqual } from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import {
  EmbeddingCacheService,
  MessageCacheService,
  RedisCacheHealthIndicator,
  RedisCacheModule,
} from '@wbot/redis-cache';
import { MessageCacheClient, createCacheRedis } from '@wbot/redis-cache/client';
import type { Redis } from 'ioredis';

const RUN_TIMEOUT_MS = 30_000;
const READY_TIMEOUT_MS = 5_000;

const baseUrl = process.env.REDIS_URL;
if (!baseUrl) throw new Error('REDIS_URL must be set');
// Two databases of one server stand for the two Redis servers, so the checks can tell them apart.
const localUrl = `${baseUrl}/0`;
const sharedUrl = `${baseUrl}/1`;

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redis: RedisCacheHealthIndicator,
  ) {}

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.redis.isHealthy('local'), () => this.redis.isHealthy('shared')]);
  }
}

@Module({
  imports: [
    RedisCacheModule.forRoot({ connections: { local: { url: localUrl }, shared: { url: sharedUrl } } }),
    TerminusModule,
  ],
  controllers: [HealthController],
})
class AppModule {}

function pass(check: string): void {
  console.log(`  ok   ${check}`);
}

async function waitForConnections(health: RedisCacheHealthIndicator): Promise<void> {
  const giveUpAt = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const [local, shared] = await Promise.all([health.isHealthy('local'), health.isHealthy('shared')]);
    if (local['redis-local'].status === 'up' && shared['redis-shared'].status === 'up') return;
    if (Date.now() > giveUpAt) {
      throw new Error(`connections not ready after ${READY_TIMEOUT_MS} ms: ${JSON.stringify({ local, shared })}`);
    }
    await sleep(20);
  }
}

async function readyClient(url: string): Promise<Redis> {
  const client = createCacheRedis(url);
  if (client.status !== 'ready') await once(client, 'ready');
  return client;
}

async function checkReadiness(app: INestApplication): Promise<void> {
  await waitForConnections(app.get(RedisCacheHealthIndicator));
  pass('both connections (local, shared) report ready through RedisCacheHealthIndicator');

  const { port } = app.getHttpServer().address() as AddressInfo;
  const response = await fetch(`http://127.0.0.1:${port}/health/ready`);
  strictEqual(response.status, 200);
  const body = (await response.json()) as { status: string; info: Record<string, { status: string }> };
  deepStrictEqual([body.status, body.info['redis-local'].status, body.info['redis-shared'].status], ['ok', 'up', 'up']);
  pass('GET /health/ready answers 200 with redis-local and redis-shared up');
}

async function checkEmbeddings(embeddings: EmbeddingCacheService): Promise<void> {
  const vector = [0.5, -1.25, 3, 0, 1024];
  strictEqual(await embeddings.cacheEmbedding('user-1', 'hello world', vector), true);
  deepStrictEqual(await embeddings.getCachedEmbedding('user-1', 'hello world'), vector);
  deepStrictEqual(
    await embeddings.getCachedEmbedding('user-1', 'hello world', { asFloat32Array: true }),
    Float32Array.from(vector),
  );
  strictEqual(await embeddings.getCachedEmbedding('user-1', 'never cached'), null);
  strictEqual(await embeddings.getCachedEmbedding('user-2', 'hello world'), null);
  await rejects(embeddings.getCachedEmbedding('', 'hello world'), { name: 'RedisCacheInputError', argument: 'userId' });
  pass('EmbeddingCacheService caches an embedding and reads back the exact vector, per user');
}

const question = { id: 'm1', role: 'user', content: 'What is a hash tag?' };
const answer = { id: 'm2', role: 'assistant', content: 'The part of a key between { and }.', tokens: 12 };

async function checkMessages(messages: MessageCacheService): Promise<void> {
  strictEqual(await messages.cacheMessages('conversation-1', [question]), true);
  strictEqual(await messages.appendMessages('conversation-1', [answer]), true);
  deepStrictEqual(await messages.getCachedMessages('conversation-1'), [question, answer]);
  deepStrictEqual(await messages.getCachedMessages('conversation-1', { last: 1 }), [answer]);
  strictEqual(await messages.appendMessages('conversation-2', [question]), false);
  strictEqual(await messages.getCachedMessages('conversation-2'), null);
  pass('MessageCacheService caches a conversation, appends to it and reads back the exact messages');
}

async function checkClientSubpath(): Promise<void> {
  const shared = await readyClient(sharedUrl);
  const local = await readyClient(localUrl);
  try {
    deepStrictEqual(await new MessageCacheClient(shared).getCachedMessages('conversation-1'), [question, answer]);
    strictEqual(await new MessageCacheClient(local).getCachedMessages('conversation-1'), null);
  } finally {
    await Promise.all([shared.quit(), local.quit()]);
  }
  pass('MessageCacheClient from @wbot/redis-cache/client reads the conversation on the shared Redis only');
}

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  await app.listen(0, '127.0.0.1');
  try {
    await checkReadiness(app);
    await checkEmbeddings(app.get(EmbeddingCacheService));
    await checkMessages(app.get(MessageCacheService));
    await checkClientSubpath();
  } finally {
    await app.close();
  }
  // The process must now end by itself: a handle left open by the library would keep it alive until the timeout.
  exitTimer.refresh();
  finished = true;
}

let finished = false;
const exitTimer = setTimeout(() => {
  console.error(
    finished
      ? '  FAIL the process did not exit after app.close(): a Redis connection or timer is still open'
      : `  FAIL the checks did not finish within ${RUN_TIMEOUT_MS} ms`,
  );
  process.exit(1);
}, RUN_TIMEOUT_MS).unref();

main().catch((error: unknown) => {
  console.error(`  FAIL ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
