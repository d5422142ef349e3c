import type { INestApplicationContext, LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Cluster, Redis } from 'ioredis';
import {
  EmbeddingCacheService,
  MessageCacheService,
  RedisCacheHealthIndicator,
  RedisCacheModule,
  getRedisCacheConnectionToken,
} from '@wbot/redis-cache';
import { describeBucketSpread } from '../../src/messages/bucket-spread';
import { useClusterAndSentinel } from '../../../../test/support/cluster-and-sentinel';

/** Every line the module logs at `log` level. */
const logged: string[] = [];
const logger: LoggerService = {
  log: (message: string) => logged.push(message),
  warn: () => undefined,
  error: () => undefined,
};

async function boot(options: Parameters<typeof RedisCacheModule.forRoot>[0]): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({ imports: [RedisCacheModule.forRoot(options)] }).compile();
  moduleRef.useLogger(logger);
  return moduleRef.init();
}

describe('RedisCacheModule on a cluster and behind Sentinel', () => {
  const engines = useClusterAndSentinel();

  it('gives the embeddings an ioredis Cluster and the messages a Sentinel master, all ready once init resolves', async () => {
    const app = await boot({
      connections: {
        local: { cluster: { nodes: engines.cluster.nodes } },
        shared: { sentinel: { sentinels: engines.sentinel.sentinels, name: engines.sentinel.name } },
      },
    });
    const local = app.get<Cluster>(getRedisCacheConnectionToken('local'));
    const shared = app.get<Redis>(getRedisCacheConnectionToken('shared'));
    expect([local.isCluster, shared.isCluster]).toEqual([true, false]);
    expect([local.status, shared.status]).toEqual(['ready', 'ready']);
    expect(local.nodes('master').map((node) => node.status)).toEqual(['ready', 'ready', 'ready']);

    expect(await app.get(EmbeddingCacheService).cacheEmbedding('user-1', 'hello', [1, 2])).toBe(true);
    expect(await app.get(MessageCacheService).cacheMessages('c1', [{ id: 'm1' }])).toBe(true);
    expect(await shared.config('GET', 'port')).toEqual(['port', String(engines.sentinel.master.port)]);
    const health = app.get(RedisCacheHealthIndicator);
    expect((await health.isHealthy('local'))['redis-local'].status).toBe('up');
    expect((await health.isHealthy('shared'))['redis-shared'].status).toBe('up');
    await engines.sentinel.waitForSubscribedClients(3); // the failover detector, on each sentinel
    const ended = [local, shared].map((client) => new Promise((resolve) => client.once('end', resolve)));
    await app.close();
    await Promise.all(ended);
    expect([local.status, shared.status]).toEqual(['end', 'end']);
    // quit() alone would leave the failover detector subscribed, reconnecting forever (redis/ioredis#1362)
    await engines.sentinel.waitForSubscribedClients(0);
  });

  it('logs how the message buckets spread over the masters once the shared cluster is ready', async () => {
    logged.length = 0;
    const app = await boot({
      connections: {
        local: { url: `redis://127.0.0.1:${engines.sentinel.master.port}` },
        shared: { cluster: { nodes: engines.cluster.nodes } },
      },
      messages: { buckets: 12, maxCachedMessages: 120 },
    });
    const shared = app.get<Cluster>(getRedisCacheConnectionToken('shared'));
    expect(shared.status).toBe('ready');
    expect(logged).toContain(describeBucketSpread(shared, 12));
    expect(describeBucketSpread(shared, 12)).toMatch(/^message buckets over 3 masters: /);
    await app.close();
  });
});
