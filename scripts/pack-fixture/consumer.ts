// A brand-new app using the packed @wbot/redis-cache, as an outside user would: scripts/verify-pack.js installs the
// tarball with plain npm commands in each corner of the matrix (Nest 11 or 12, ioredis 5 or 6), compiles this file
// as CommonJS (Nest 11) or as an ES module (Nest 12, which is ESM-only), and runs it against a private redis-server
// whose base URL it passes in REDIS_URL. Prints one line per check and exits non-zero at the first failure.
import 'reflect-metadata';
import { deepStrictEqual, rejects, strictEqual } from 'node:assert/strict';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthCheckService, TerminusModule } from '@nestjs/terminus';
import {
  EmbeddingCacheService,
  InjectRedisCacheConnection,
  MessageCacheService,
  RedisCacheHealthIndicator,
  RedisCacheModule,
  getRedisCacheConnectionToken,
} from '@wbot/redis-cache';
import { MessageCacheClient, closeCacheClient, createCacheRedis } from '@wbot/redis-cache/client';
import type { Redis } from 'ioredis';
import { runChecks } from './run-checks.js';

const RUN_TIMEOUT_MS = 30_000;

const baseUrl = process.env.REDIS_URL;
if (!baseUrl) throw new Error('REDIS_URL must be set');
// Two databases of one server stand for the two Redis servers, so the checks can tell them apart.
const localUrl = `${baseUrl}/0`;
const sharedUrl = `${baseUrl}/1`;

/** An app's own provider that needs the shared connection, through the library's token. */
@Injectable()
class SharedRedisUser {
  constructor(@InjectRedisCacheConnection('shared') readonly redis: Redis) {}
}

@Module({
  imports: [
    RedisCacheModule.forRoot({ connections: { local: { url: localUrl }, shared: { url: sharedUrl } } }),
    TerminusModule,
  ],
  providers: [SharedRedisUser],
})
class AppModule {}

function pass(check: string): void {
  console.log(`  ok   ${check}`);
}

const question = { id: 'm1', role: 'user', content: 'What is a hash tag?' };
const answer = { id: 'm2', role: 'assistant', content: 'The part of a key between { and }.', tokens: 12 };
const vector = [0.5, -1.25, 3, 0, 1024];

/** The seed's four calls, made at once after the app has started: none may be dropped. */
async function checkFirstCalls(embeddings: EmbeddingCacheService, messages: MessageCacheService): Promise<void> {
  strictEqual(await embeddings.cacheEmbedding('user-1', 'hello world', vector), true);
  deepStrictEqual(await embeddings.getCachedEmbedding('user-1', 'hello world'), vector);
  strictEqual(await messages.cacheMessages('conversation-1', [question]), true);
  strictEqual(await messages.appendMessages('conversation-1', [answer]), true);
  deepStrictEqual(await messages.getCachedMessages('conversation-1'), [question, answer]);
  deepStrictEqual([embeddings.stats().fallbacks, messages.stats().fallbacks], [0, 0]);
  pass('right after start: cacheEmbedding, getCachedEmbedding, appendMessages, getCachedMessages are all served');
}

async function checkEmbeddings(embeddings: EmbeddingCacheService): Promise<void> {
  deepStrictEqual(
    await embeddings.getCachedEmbedding('user-1', 'hello world', { asFloat32Array: true }),
    Float32Array.from(vector),
  );
  strictEqual(await embeddings.getCachedEmbedding('user-1', 'never cached'), null);
  strictEqual(await embeddings.getCachedEmbedding('user-2', 'hello world'), null);
  await rejects(embeddings.getCachedEmbedding('', 'hello world'), { name: 'RedisCacheInputError', argument: 'userId' });
  pass('EmbeddingCacheService reads back the exact vector, per user, and names a bad argument');
}

async function checkMessages(messages: MessageCacheService): Promise<void> {
  deepStrictEqual(await messages.getCachedMessages('conversation-1', { last: 1 }), [answer]);
  strictEqual(await messages.appendMessages('conversation-2', [question]), false);
  strictEqual(await messages.getCachedMessages('conversation-2'), null);
  pass('MessageCacheService appends only to a cached conversation and reads the last messages');
}

async function checkHealthAndConnections(app: { get<T>(token: unknown): T }): Promise<void> {
  const health = app.get<RedisCacheHealthIndicator>(RedisCacheHealthIndicator);
  const result = await app
    .get<HealthCheckService>(HealthCheckService)
    .check([() => health.isHealthy('local'), () => health.isHealthy('shared')]);
  deepStrictEqual(
    [result.status, result.info?.['redis-local']?.status, result.info?.['redis-shared']?.status],
    ['ok', 'up', 'up'],
  );
  pass("Terminus's HealthCheckService reports redis-local and redis-shared up through RedisCacheHealthIndicator");

  const shared = app.get<SharedRedisUser>(SharedRedisUser).redis;
  strictEqual(shared, app.get(getRedisCacheConnectionToken('shared')));
  strictEqual(await shared.exists('wbot:msg:{b0}:c:conversation-1'), 1);
  pass('@InjectRedisCacheConnection gives the app the shared connection the messages are on');
}

async function checkClientSubpath(): Promise<void> {
  const shared = createCacheRedis(sharedUrl);
  const local = createCacheRedis(localUrl);
  try {
    // fresh clients, still connecting: the first read waits for them
    deepStrictEqual(await new MessageCacheClient(shared).getCachedMessages('conversation-1'), [question, answer]);
    strictEqual(await new MessageCacheClient(local).getCachedMessages('conversation-1'), null);
  } finally {
    await Promise.all([closeCacheClient(shared), closeCacheClient(local)]);
  }
  pass('MessageCacheClient from @wbot/redis-cache/client reads the conversation on the shared Redis only');
}

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
  try {
    await checkFirstCalls(app.get(EmbeddingCacheService), app.get(MessageCacheService));
    await checkEmbeddings(app.get(EmbeddingCacheService));
    await checkMessages(app.get(MessageCacheService));
    await checkHealthAndConnections(app);
    await checkClientSubpath();
  } finally {
    await app.close();
  }
}

runChecks(main, RUN_TIMEOUT_MS);
