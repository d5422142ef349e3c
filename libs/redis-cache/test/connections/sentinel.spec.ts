import { Redis } from 'ioredis';
import { EmbeddingCacheService, MessageCacheService, createCacheClient } from '@wbot/redis-cache';
import { RedisSentinel } from '../../../../test/support/redis-sentinel';
import { waitUntilReady } from '../support/topology';
import { embeddingStats } from '../../../../test/support/cache-stats';
import { until } from '../../../../test/support/until';
import { serving } from '../support/near-cache';

/** Generous: a fallback seen here comes from the connection not being ready, never from the deadline. */
const DEADLINE_MS = 5000;

let deployment: RedisSentinel;
let client: Redis;
let warnings: string[];

/** The port of the server `client` is connected to, as that server reports it. */
async function servingPort(redis: Redis): Promise<number> {
  const [, port] = (await redis.config('GET', 'port')) as [string, string];
  return Number(port);
}

beforeAll(async () => {
  deployment = await RedisSentinel.start();
  client = createCacheClient({ sentinel: { sentinels: deployment.sentinels, name: deployment.name } }) as Redis;
  await waitUntilReady(client);
}, 30_000);

afterAll(async () => {
  client.disconnect();
  await deployment.stop();
});

beforeEach(() => {
  warnings = [];
});

const runtime = () => ({ deadlineMs: DEADLINE_MS, logger: { warn: (line: string) => warnings.push(line) } });

describe('a cache behind Redis Sentinel', () => {
  it('reaches the master the sentinels name, and its writes reach the replica', async () => {
    const embeddings = new EmbeddingCacheService(client, {}, runtime());
    const messages = new MessageCacheService(client, {}, runtime());
    expect(await servingPort(client)).toBe(deployment.master.port);
    expect(await embeddings.cacheEmbedding('user-1', 'hello', [1, 2])).toBe(true);
    expect(await messages.cacheMessages('conversation-1', [{ id: 'm1', content: 'hi' }])).toBe(true);
    expect(await client.wait(1, 2000)).toBe(1);
    expect(await embeddings.getCachedEmbedding('user-1', 'hello')).toEqual([1, 2]);
  });

  it('falls back within the deadline while the master is gone, then serves from the promoted replica on the same client', async () => {
    const embeddings = new EmbeddingCacheService(client, {}, runtime());
    const messages = new MessageCacheService(client, {}, runtime());
    // a near cache on the same client, whose subscriber follows the master the sentinels name
    const near = await serving(
      new EmbeddingCacheService(
        client,
        { nearCache: { maxBytes: 100_000 } },
        { deadlineMs: DEADLINE_MS, logger: { warn: () => undefined } },
      ),
    );
    expect(await embeddings.cacheEmbedding('user-2', 'before', [3])).toBe(true);
    expect(await messages.cacheMessages('conversation-2', [{ id: 'm1', content: 'hi' }])).toBe(true);
    expect(await client.wait(1, 2000)).toBe(1);
    await near.getCachedEmbedding('user-2', 'before');
    expect(await near.getCachedEmbedding('user-2', 'before')).toEqual([3]);
    expect(near.stats().nearHits).toBe(1);

    const closed = new Promise((resolve) => client.once('close', resolve));
    await deployment.master.kill();
    await closed;
    // the master's subscription is gone: the near cache forgets what it held, and serves nothing
    await until(() => near.nearCacheUsage()!.entries === 0 && !near.nearCacheUsage()!.serving, 2000);
    // the switch: the client is not ready; a call waits for the reconnect within its deadline, and once an
    // attempt has failed, gives its fallback without waiting
    const started = performance.now();
    expect(await embeddings.getCachedEmbedding('user-2', 'before')).toBeNull();
    expect(await embeddings.cacheEmbedding('user-2', 'during', [4])).toBe(false);
    expect(await messages.getCachedMessages('conversation-2')).toBeNull();
    expect(performance.now() - started).toBeLessThanOrEqual(3 * DEADLINE_MS + 50);
    expect(embeddings.stats()).toEqual(embeddingStats({ writes: 1, fallbacks: 2 }));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(
      /^Redis connection "local" failed during getCachedEmbedding: connection is \w+( \(not ready in time\))?$/,
    );
    expect(warnings[0]).not.toMatch(/is ready$/);

    await deployment.waitForMaster(deployment.replica.port);
    await waitUntilReady(client, 20_000);
    expect(await servingPort(client)).toBe(deployment.replica.port);
    expect(await embeddings.getCachedEmbedding('user-2', 'before')).toEqual([3]);
    expect(await embeddings.cacheEmbedding('user-2', 'after', [5])).toBe(true);
    expect(await embeddings.getCachedEmbeddings('user-2', ['before', 'during', 'after'])).toEqual([[3], null, [5]]);
    expect(await messages.getCachedMessages('conversation-2')).toEqual([{ id: 'm1', content: 'hi' }]);

    // subscribed again, on the promoted master: it fills, serves, and hears that master's clears
    await serving(near, 20_000);
    await near.getCachedEmbedding('user-2', 'before');
    expect(await near.getCachedEmbedding('user-2', 'before')).toEqual([3]);
    expect(near.stats().nearHits).toBe(2);
    expect(await embeddings.clearUser('user-2')).toBe(true);
    await until(() => near.nearCacheUsage()!.entries === 0, 1000);
    await near.close();
  }, 40_000);
});
