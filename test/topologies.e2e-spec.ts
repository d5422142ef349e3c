import { ClusterService, RedisService } from '@liaoliaots/nestjs-redis';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { EmbeddingCacheService, MessageCacheService } from '@wbot/redis-cache';
import type { Cluster, Redis } from 'ioredis';
import request from 'supertest';
import { conversationBucket } from '../libs/redis-cache/src/keys';
import { waitUntilReady } from '../libs/redis-cache/test/support/topology';
import { bootDemo } from './support/demo-app';
import { useClusterAndSentinel } from './support/cluster-and-sentinel';

/** host:port,host:port, as REDIS_CLUSTER_NODES and REDIS_SENTINELS take them. */
const hostPorts = (addresses: { host: string; port: number }[]) =>
  addresses.map(({ host, port }) => `${host}:${port}`).join(', ');

/** The demo configured only through its environment, on a private 3-master cluster and a private Sentinel deployment. */
describe('the demo on Redis Cluster and behind Sentinel, from the environment alone', () => {
  const engines = useClusterAndSentinel();

  async function readyApp(environment: Record<string, string>): Promise<NestExpressApplication> {
    const app = await bootDemo(environment);
    const clients = [
      ...['local', 'shared'].map((name) => app.get(RedisService).getOrNil(name)),
      ...['local', 'shared'].map((name) => app.get(ClusterService).getOrNil(name)),
    ].filter((client): client is Redis | Cluster => client !== null);
    await Promise.all(clients.map((client) => waitUntilReady(client)));
    for (const client of clients) {
      if ('nodes' in client) await Promise.all(client.nodes('master').map((node) => waitUntilReady(node)));
    }
    return app;
  }

  it('keeps embeddings on the cluster of REDIS_CLUSTER_NODES and messages on the master REDIS_SHARED_SENTINELS name', async () => {
    const app = await readyApp({
      REDIS_CLUSTER_NODES: hostPorts(engines.cluster.nodes),
      REDIS_SHARED_SENTINELS: hostPorts(engines.sentinel.sentinels),
      REDIS_SENTINEL_NAME: engines.sentinel.name,
      MESSAGE_BUCKETS: '6',
    });
    const inspector = engines.cluster.inspector();
    try {
      const http = request(app.getHttpServer());
      expect(app.get(ClusterService).getOrThrow('local').nodes('master')).toHaveLength(3);
      const shared = app.get(RedisService).getOrThrow('shared');
      expect(await shared.config('GET', 'port')).toEqual(['port', String(engines.sentinel.master.port)]);
      expect(app.get(MessageCacheService).options.buckets).toBe(6);

      const embedding = Array.from({ length: 384 }, (_, i) => i / 384);
      await http.put('/users/alice/embeddings').send({ text: 'Hello world', embedding }).expect(204);
      expect(await app.get(EmbeddingCacheService).getCachedEmbedding('alice', 'Hello world')).toHaveLength(384);
      await waitUntilReady(inspector);
      const embeddingKeys = (
        await Promise.all(inspector.nodes('master').map((node) => node.keys('wbot:emb:*')))
      ).flat();
      expect(embeddingKeys).toHaveLength(2); // alice's vectors and her LRU index, in one slot

      const { id } = (await http.post('/conversations').expect(201)).body;
      await http
        .post(`/conversations/${id}/messages`)
        .send({ messages: [{ role: 'user', content: 'Hi' }] })
        .expect(201);
      const miss = await http.get(`/conversations/${id}/messages`).expect(200);
      const hit = await http.get(`/conversations/${id}/messages`).expect(200);
      expect([miss.headers['x-cache'], hit.headers['x-cache']]).toEqual(['MISS', 'HIT']);
      expect(hit.body.messages.map((message: { content: string }) => message.content)).toEqual(['Hi']);
      expect(await shared.exists(`wbot:msg:{b${bucketOf(app, id)}}:c:${id}`)).toBe(1);

      const ready = await http.get('/health/ready').expect(200);
      expect(ready.body.info['redis-local']).toMatchObject({ status: 'up', state: 'ready' });
      expect(ready.body.info['redis-shared']).toMatchObject({ status: 'up', state: 'ready' });
      const metrics = (await http.get('/metrics').expect(200)).text;
      expect(metrics).toContain('wbot_redis_breaker_state{connection="local",state="closed"} 1');
      expect(metrics).toContain('wbot_redis_breaker_state{connection="shared",state="closed"} 1');
    } finally {
      inspector.disconnect();
      await app.close();
    }
  });

  it('keeps embeddings on the master REDIS_SENTINELS name and messages on the cluster of REDIS_SHARED_CLUSTER_NODES', async () => {
    const app = await readyApp({
      REDIS_SENTINELS: hostPorts(engines.sentinel.sentinels),
      REDIS_SENTINEL_NAME: engines.sentinel.name,
      REDIS_SHARED_CLUSTER_NODES: hostPorts(engines.cluster.nodes),
    });
    const inspector = engines.cluster.inspector();
    try {
      const http = request(app.getHttpServer());
      const local = app.get(RedisService).getOrThrow('local');
      expect(await local.config('GET', 'port')).toEqual(['port', String(engines.sentinel.master.port)]);
      expect(app.get(ClusterService).getOrThrow('shared').nodes('master')).toHaveLength(3);

      const { id } = (await http.post('/conversations').expect(201)).body;
      await http.get(`/conversations/${id}/messages`).expect(200);
      await waitUntilReady(inspector);
      expect(await inspector.exists(`wbot:msg:{b0}:c:${id}`)).toBe(1);
      await http
        .post('/users/bob/embeddings/embed')
        .send({ texts: ['a', 'b'] })
        .expect(200);
      expect(await local.keys('wbot:emb:*')).toHaveLength(2);
      await http.get('/health/ready').expect(200);
    } finally {
      inspector.disconnect();
      await app.close();
    }
  });
});

function bucketOf(app: NestExpressApplication, conversationId: string): number {
  return conversationBucket(conversationId, app.get(MessageCacheService).options.buckets);
}
