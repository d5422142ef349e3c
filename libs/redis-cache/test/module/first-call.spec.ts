import { Test } from '@nestjs/testing';
import { Cluster, Redis } from 'ioredis';
import {
  EmbeddingCacheService,
  MessageCacheClient,
  MessageCacheService,
  RedisCacheModule,
  closeCacheClient,
  createCacheClient,
  createCacheRedis,
} from '@wbot/redis-cache';
import { TOPOLOGIES, startTopology, type Topology } from '../support/topology';
import { messageStats } from '../../../../test/support/cache-stats';

/**
 * The first calls after a start are served: right after `app.init()`, and on
 * a message client built on a client that has only just been created. Each
 * case runs 20 times in a row, with everything fresh each time.
 */
const RUNS = 20;
const HISTORY = [{ id: 'm1', role: 'user', content: 'hi' }];

describe.each(TOPOLOGIES)('the first calls on %s', (name) => {
  let topology: Topology;

  beforeAll(async () => {
    topology = await startTopology(name);
  }, 60_000);
  afterAll(async () => {
    await topology?.stop();
  });

  it(`a fresh module: init(), then at once two writes and two reads, all served, ${RUNS} times in a row`, async () => {
    const results: unknown[] = [];
    for (let run = 0; run < RUNS; run++) {
      const moduleRef = await Test.createTestingModule({
        imports: [
          RedisCacheModule.forRoot({ connections: { local: topology.connection, shared: topology.connection } }),
        ],
      }).compile();
      const app = await moduleRef.init();
      try {
        const embeddings = app.get(EmbeddingCacheService);
        const messages = app.get(MessageCacheService);
        results.push([
          await embeddings.cacheEmbedding(`user-${run}`, 'first', [run, 0.5]),
          await embeddings.getCachedEmbedding(`user-${run}`, 'first'),
          await messages.cacheMessages(`conversation-${run}`, HISTORY),
          await messages.getCachedMessages(`conversation-${run}`),
          embeddings.stats().fallbacks + messages.stats().fallbacks,
        ]);
      } finally {
        await app.close();
      }
    }
    expect(results).toEqual(Array.from({ length: RUNS }, (_, run) => [true, [run, 0.5], true, HISTORY, 0]));
    await topology.flushall();
  }, 60_000);

  /** Plain ioredis clients, with ioredis's own defaults: the client any app may already have. */
  const plainClient = (): Redis | Cluster => {
    const connection = topology.connection;
    if ('cluster' in connection && connection.cluster) return new Cluster(connection.cluster.nodes);
    return new Redis((connection as { url: string }).url);
  };
  const factories: [string, () => Redis | Cluster][] = [
    ['createCacheClient', () => createCacheClient(topology.connection)],
    ['a plain ioredis client', plainClient],
  ];
  if (name === 'a single node') {
    factories.unshift(['createCacheRedis', () => createCacheRedis((topology.connection as { url: string }).url)]);
  }

  it.each(factories)(
    `a MessageCacheClient on a fresh %s: its first read of a cached conversation is a hit, ${RUNS} times in a row`,
    async (_, create) => {
      const writer = createCacheClient(topology.connection);
      const cached = new MessageCacheClient(writer);
      expect(await cached.cacheMessages('cached', HISTORY)).toBe(true);
      const reads: unknown[] = [];
      try {
        for (let run = 0; run < RUNS; run++) {
          const client = create();
          const messages = new MessageCacheClient(client);
          reads.push([await messages.getCachedMessages('cached'), messages.stats()]);
          await closeCacheClient(client);
        }
      } finally {
        await closeCacheClient(writer);
      }
      const firstRead = messageStats({ hits: 1 });
      expect(reads).toEqual(Array.from({ length: RUNS }, () => [HISTORY, firstRead]));
      await topology.flushall();
    },
    60_000,
  );
});
