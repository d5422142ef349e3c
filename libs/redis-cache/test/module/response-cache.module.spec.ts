import { Test } from '@nestjs/testing';
import type { INestApplicationContext } from '@nestjs/common';
import type { Redis } from 'ioredis';
import {
  RedisCacheConfigError,
  RedisCacheModule,
  ResponseCacheService,
  createCacheRedis,
  getRedisCacheConnectionToken,
  type RedisCacheModuleOptions,
} from '@wbot/redis-cache';
import { waitUntilReady } from '../../../../test/support/redis-client';
import { RedisServer } from '../../../../test/support/redis-server';
import { until } from '../../../../test/support/until';

/** The response cache as the Nest module provides it. */
describe('RedisCacheModule and the response cache', () => {
  let local: RedisServer;
  let shared: RedisServer;
  let options: RedisCacheModuleOptions;
  const booted: INestApplicationContext[] = [];

  async function boot(moduleOptions: RedisCacheModuleOptions): Promise<INestApplicationContext> {
    const moduleRef = await Test.createTestingModule({ imports: [RedisCacheModule.forRoot(moduleOptions)] }).compile();
    booted.push(moduleRef);
    return moduleRef.init();
  }

  const connection = (app: INestApplicationContext, name: 'local' | 'shared') =>
    app.get<Redis>(getRedisCacheConnectionToken(name));

  beforeAll(async () => {
    [local, shared] = await Promise.all([RedisServer.start(), RedisServer.start()]);
    options = { connections: { local: { url: local.url }, shared: { url: shared.url } } };
  });

  afterEach(async () => {
    await Promise.all(booted.splice(0).map((app) => app.close()));
  });

  afterAll(async () => {
    await Promise.all([local.stop(), shared.stop()]);
  });

  it('provides ResponseCacheService on the local connection, with the options given', async () => {
    const app = await boot({ ...options, responses: { maxEntriesPerTenant: 5 } });
    const responses = app.get(ResponseCacheService);
    expect(responses.options).toMatchObject({ connection: 'local', maxEntriesPerTenant: 5, ttlSeconds: 3600 });
    expect(await responses.cacheResponse('alice', 'k', 'v')).toBe(true);
    expect(await connection(app, 'local').keys('wbot:llm:*')).toHaveLength(3);
    expect(await connection(app, 'shared').keys('wbot:llm:*')).toEqual([]);
    expect(responses.connectionState()).toMatchObject({ connection: 'local', status: 'ready', breaker: 'closed' });
    await connection(app, 'local').flushall();
  });

  it("runs on the shared connection when responses.connection says 'shared'", async () => {
    const app = await boot({ ...options, responses: { connection: 'shared' } });
    expect(await app.get(ResponseCacheService).cacheResponse('alice', 'k', 'v')).toBe(true);
    expect(await connection(app, 'shared').keys('wbot:llm:*')).toHaveLength(3);
    expect(await connection(app, 'local').keys('wbot:llm:*')).toEqual([]);
    await connection(app, 'shared').flushall();
  });

  it('closes at shutdown the connection its followers opened', async () => {
    const app = await boot(options);
    const other = createCacheRedis(local.url);
    await waitUntilReady(other);
    const leader = new ResponseCacheService(other);
    let release!: () => void;
    const leading = leader.getOrGenerate(
      'alice',
      'k',
      () => new Promise<string>((resolve) => (release = () => resolve('v'))),
    );
    await until(async () => (await other.keys('*:lock:*')).length === 1);
    const following = app.get(ResponseCacheService).getOrGenerate('alice', 'k', async () => 'own');
    const clients = async () => ((await other.client('LIST')) as string).trim().split('\n').length;
    // the leader's, the module's, and the follower's own
    await until(async () => (await clients()) === 3);
    release();
    expect(await following).toEqual({ source: 'coalesced', value: 'v' });
    await leading;
    await app.close();
    await until(async () => (await clients()) === 1);
    other.disconnect();
  });

  it('refuses invalid responses options at start, naming them', async () => {
    await expect(boot({ ...options, responses: { maxEntriesPerTenant: 0 } })).rejects.toThrow(
      expect.objectContaining({ option: 'responses.maxEntriesPerTenant' }) as RedisCacheConfigError,
    );
  });
});
