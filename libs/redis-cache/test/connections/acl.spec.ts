import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import {
  EmbeddingCacheService,
  MessageCacheService,
  RedisCacheHealthIndicator,
  RedisCacheModule,
  ResponseCacheService,
  getRedisCacheConnectionToken,
  type RedisCacheModuleOptions,
} from '@wbot/redis-cache';
import { inspector } from '../../../../test/support/redis-client';
import { RedisServer } from '../../../../test/support/redis-server';
import { until } from '../../../../test/support/until';

/**
 * The minimal ACL rule docs/security.md gives: the `wbot:` keys, EVALSHA and EVAL
 * (ioredis sends EVAL the first time on each connection and after NOSCRIPT), the
 * commands the scripts call (PUBLISH among them, on the near cache's channel),
 * SUBSCRIBE for the near cache, PING for the health check and the near cache's
 * heartbeat, and INFO for ioredis's ready check. Nothing else: no other keys,
 * no other channel, no admin commands.
 */
const SCRIPT_COMMANDS = [
  'time', 'get', 'getex', 'set', 'del', 'exists', 'pexpire', 'incrby', 'decrby',
  'hget', 'hset', 'hdel', 'hmget', 'hkeys', 'hvals', 'hlen', 'hexists', 'hincrby',
  'zadd', 'zrem', 'zrange', 'zrangebyscore', 'zremrangebyscore', 'zremrangebyrank', 'zscore', 'zcard',
  'lindex', 'llen', 'lrange', 'rpush', 'sadd', 'smismember', 'publish',
  'incr', 'xadd',
]; // prettier-ignore
/** What the response cache's followers send besides: their blocking read, and the means to cut it short. */
const FOLLOWER_COMMANDS = ['xread', 'client|id', 'client|unblock'];
const MINIMAL_RULE = [
  'resetkeys', '~wbot:*', 'resetchannels', '&wbot:emb:near', '-@all',
  '+evalsha', '+eval', '+ping', '+info', '+subscribe',
  ...[...SCRIPT_COMMANDS, ...FOLLOWER_COMMANDS].map((command) => `+${command}`),
]; // prettier-ignore

const PASSWORD = 's3cr3t-Pa55word-that-must-not-leak';
const WRONG_PASSWORD = 'wr0ng-Pa55word-that-must-not-leak';

let server: RedisServer;
let admin: Redis;

beforeAll(async () => {
  server = await RedisServer.start();
  admin = await inspector(server.url);
  await admin.call('ACL', 'SETUSER', 'wbot', 'reset', 'on', `>${PASSWORD}`, ...MINIMAL_RULE);
});

afterAll(async () => {
  admin.disconnect();
  await server.stop();
});

interface Booted {
  app: INestApplicationContext;
  /** Warnings and errors, their message only. */
  logs: string[];
  /** Every line at every level, with its context. */
  everyLine: string[];
}

async function boot(
  connection: RedisCacheModuleOptions['connections']['local'],
  embeddings?: RedisCacheModuleOptions['embeddings'],
): Promise<Booted> {
  const logs: string[] = [];
  const everyLine: string[] = [];
  const record = (message: unknown, ...rest: unknown[]) => everyLine.push([message, ...rest].map(String).join(' '));
  const problem = (message: unknown, ...rest: unknown[]) => {
    logs.push(String(message));
    record(message, ...rest);
  };
  const moduleRef = await Test.createTestingModule({
    imports: [RedisCacheModule.forRoot({ connections: { local: connection, shared: { ...connection } }, embeddings })],
  }).compile();
  moduleRef.useLogger({ log: record, error: problem, warn: problem, debug: record, verbose: record, fatal: problem });
  return { app: await moduleRef.init(), logs, everyLine };
}

it('a user restricted to exactly the minimal rule can run every operation, and its health check', async () => {
  const { app, logs } = await boot(
    { url: server.url, username: 'wbot', password: PASSWORD },
    { nearCache: { maxBytes: 100_000 } },
  );
  const embeddings = app.get(EmbeddingCacheService);
  const messages = app.get(MessageCacheService);
  await until(() => embeddings.connectionState().status === 'ready' && messages.connectionState().status === 'ready');
  await until(() => embeddings.nearCacheUsage()!.serving);

  expect(
    await embeddings.cacheEmbeddings('user', [
      { text: 'a', embedding: [1] },
      { text: 'b', embedding: [2] },
    ]),
  ).toBe(true);
  expect(await embeddings.getCachedEmbeddings('user', ['a', 'b', 'c'])).toEqual([[1], [2], null]);
  expect(await embeddings.getCachedEmbeddings('user', ['a', 'b'])).toEqual([[1], [2]]);
  expect(embeddings.stats().nearHits).toBe(2);
  expect(await embeddings.getOrComputeEmbeddings('user', ['c'], async () => [[3]])).toEqual([[3]]);
  expect(await embeddings.clearUser('user')).toBe(true);
  expect(await messages.getOrLoadMessages('conversation', async () => [{ id: 1 }])).toEqual([{ id: 1 }]);
  expect(await messages.appendMessages('conversation', [{ id: 2 }])).toBe(true);
  expect(await messages.cacheMessages('other', [{ id: 3 }])).toBe(true);
  expect(await messages.getCachedMessages('conversation', { last: 1 })).toEqual([{ id: 2 }]);
  expect(await messages.clearConversation('conversation')).toBe(true);
  // EVAL after a flushed script cache, as after a failover
  await admin.script('FLUSH');
  expect(await messages.getCachedMessages('other')).toEqual([{ id: 3 }]);
  const health = app.get(RedisCacheHealthIndicator);
  expect((await health.isHealthy('local'))['redis-local'].status).toBe('up');

  expect(embeddings.stats().fallbacks + messages.stats().fallbacks).toBe(0);
  expect(logs).toEqual([]);
  expect(await admin.call('ACL', 'LOG')).toEqual([]);
  await app.close();
});

it("a user restricted to exactly the minimal rule runs every operation of the response cache, a follower's included", async () => {
  const { app, logs } = await boot({ url: server.url, username: 'wbot', password: PASSWORD });
  const responses = app.get(ResponseCacheService);
  await until(() => responses.connectionState().status === 'ready');
  // another process's cache, as far as coalescing goes: it follows this one's leader through Redis
  const elsewhere = new ResponseCacheService(app.get<Redis>(getRedisCacheConnectionToken('local')));
  let release!: () => void;
  const leading = responses.getOrGenerate(
    'tenant',
    'k',
    () => new Promise<string>((resolve) => (release = () => resolve('v'))),
  );
  const followers = async () => {
    const [lock] = await admin.keys('wbot:llm:*:lock:*');
    return lock === undefined ? -1 : Number(await admin.hget(lock, 'followers'));
  };
  await until(async () => (await followers()) === 0);
  const following = elsewhere.getOrGenerate('tenant', 'k', async () => 'own');
  await until(async () => (await followers()) === 1);
  release();
  expect([await leading, await following]).toEqual([
    { source: 'miss', value: 'v' },
    { source: 'coalesced', value: 'v' },
  ]);
  const streamed = await responses.getOrStream(
    'tenant',
    's',
    async () => new ReadableStream({ start: (c) => (c.enqueue('done'), c.close()) }),
    {
      classify: () => 'finish',
      failurePart: () => 'failed',
    },
  );
  for await (const _part of streamed.stream as unknown as AsyncIterable<string>);
  expect(await responses.cacheResponse('tenant', 'c', { a: 1 })).toBe(true);
  expect(await elsewhere.getCachedResponse('tenant', 'c')).toEqual({ a: 1 });
  expect(await responses.clearTenant('tenant')).toBe(true);

  expect(responses.stats().fallbacks + elsewhere.stats().fallbacks).toBe(0);
  expect(logs).toEqual([]);
  expect(await admin.call('ACL', 'LOG')).toEqual([]);
  await elsewhere.close();
  await app.close();
});

it('a wrong password shows as down with a clear log line, calls fall back, and the password appears nowhere', async () => {
  const { app, logs, everyLine } = await boot({ url: `redis://wbot:${WRONG_PASSWORD}@127.0.0.1:${server.port}` });
  const embeddings = app.get(EmbeddingCacheService);
  const messages = app.get(MessageCacheService);
  await until(() => logs.length >= 2);

  expect(await embeddings.cacheEmbedding('user', 'text', [1])).toBe(false);
  expect(await messages.getCachedMessages('conversation')).toBeNull();
  const health = app.get(RedisCacheHealthIndicator);
  const report = { local: await health.isHealthy('local'), shared: await health.isHealthy('shared', 'messages') };
  expect(report.local['redis-local'].status).toBe('down');
  const metrics = {
    embeddings: [embeddings.stats(), embeddings.connectionState()],
    messages: [messages.stats(), messages.connectionState()],
  };
  expect(metrics.embeddings[1]).toEqual({
    connection: 'local',
    status: expect.not.stringMatching(/^ready$/),
    breaker: 'closed',
  });
  expect(logs).toContain(
    'Redis connection "local" is down: WRONGPASS invalid username-password pair or user is disabled.',
  );
  await app.close();
  const everything = JSON.stringify({ everyLine, report, metrics });
  expect(everything).not.toContain(WRONG_PASSWORD);
  expect(everything).not.toContain(PASSWORD);
});
