import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Cluster, Redis } from 'ioredis';
import { EmbeddingCacheService, MessageCacheService, type CachedMessage } from '@wbot/redis-cache';
import { describeBucketSpread } from '../../src/messages/bucket-spread';
import { MessageCacheClient, createCacheClient } from '@wbot/redis-cache/client';
import { bucketBudget, bucketPrefix, conversationBucket, conversationKeys, embeddingKeys } from '../../src/keys';
import { RedisCluster } from '../../../../test/support/redis-cluster';
import type { RedisServer } from '../../../../test/support/redis-server';
import { waitUntilReady } from '../support/topology';
import { OpossumConnectionBreaker } from '../../src/resilience/opossum-breaker';
import type { ModuleConnections } from '../../src/module/module-connections';
import type { ModuleBreakers } from '../../src/module/module-breakers';
import { CIRCUIT_BREAKER_DEFAULTS, DEFAULT_DEADLINE_MS } from '../../src/options/defaults';
import { ModuleHealthIndicator } from '../../src/health/redis-cache.health';
import { until } from '../../../../test/support/until';
import { embeddingStats } from '../../../../test/support/cache-stats';

const run = promisify(execFile);

/**
 * Far beyond the test's own timeout: a fallback seen here comes from ioredis
 * rejecting the call without waiting for a reply, never from a deadline or a
 * command timeout.
 */
const NEVER_MS = 60_000;
const BUCKETS = 12;
const BUDGET = 120;

let cluster: RedisCluster;
let inspect: Cluster;
const opened: (Redis | Cluster)[] = [];

/** A fail-fast cluster client as a service or a frontend makes one, with every node connected. */
async function connect(redisOptions: { commandTimeout?: number } = {}): Promise<Cluster> {
  const client = createCacheClient({ cluster: { nodes: cluster.nodes, redisOptions } }) as Cluster;
  opened.push(client);
  await waitUntilReady(client);
  await Promise.all(client.nodes('master').map((node) => waitUntilReady(node)));
  return client;
}

function messages(count: number, prefix: string): CachedMessage[] {
  return Array.from({ length: count }, (_, i) => ({ id: `${prefix}${i}`, content: `${prefix} text ${i}` }));
}

/** The master serving a slot, from the cluster's own CLUSTER SLOTS, as `host:port`. */
async function masterOfSlot(slot: number): Promise<string> {
  const { stdout } = await run('redis-cli', ['-p', String(cluster.masters[0].port), '--json', 'cluster', 'slots']);
  const ranges = JSON.parse(stdout) as [number, number, [string, number]][];
  const [, , [host, port]] = ranges.find(([from, to]) => slot >= from && slot <= to)!;
  return `${host}:${port}`;
}

async function slotOf(key: string): Promise<number> {
  const { stdout } = await run('redis-cli', ['-p', String(cluster.masters[0].port), 'cluster', 'keyslot', key]);
  return Number(stdout.trim());
}

beforeAll(async () => {
  cluster = await RedisCluster.start();
  inspect = cluster.inspector();
  await waitUntilReady(inspect);
}, 30_000); // a cluster forms in about 2 s alone, far slower on a loaded machine

afterAll(async () => {
  opened.forEach((client) => client.disconnect());
  inspect.disconnect();
  await cluster.stop();
});

beforeEach(async () => {
  await Promise.all(inspect.nodes('master').map((node) => node.flushall()));
});

describe('the bucketed message budget on a three-master cluster', () => {
  it('places every bucket on the master that serves its hash tag, and says so in one line', async () => {
    const client = await connect();
    const expected = new Map<string, string[]>();
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      const slot = await slotOf(bucketPrefix(bucket));
      const master = await masterOfSlot(slot);
      expected.set(master, [...(expected.get(master) ?? []), `b${bucket}@${slot}`]);
    }
    // twelve tags over three masters: every master holds some buckets
    expect(expected.size).toBe(3);
    const held = [...expected]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([master, placed]) => `${master} holds ${placed.length} (${placed.join(' ')})`);
    expect(describeBucketSpread(client, BUCKETS)).toBe(`message buckets over 3 masters: ${held.join('; ')}`);
  });

  it('keeps every bucket within its share, the shares summing to the budget, with conversations on every master', async () => {
    const cache = new MessageCacheClient(await connect(), { buckets: BUCKETS, maxCachedMessages: BUDGET });
    const conversations = Array.from({ length: 60 }, (_, i) => `conversation-${i}`);
    for (const id of conversations) expect(await cache.cacheMessages(id, messages(4, `${id}-`))).toBe(true);

    const cached = new Map<number, string[]>();
    for (const id of conversations) {
      const bucket = conversationBucket(id, BUCKETS);
      if ((await cache.getCachedMessages(id)) !== null) cached.set(bucket, [...(cached.get(bucket) ?? []), id]);
    }
    const masters = new Set<string>();
    let sum = 0;
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      const keys = conversationKeys('', bucket);
      const total = Number((await inspect.get(keys.total)) ?? 0);
      const share = bucketBudget(BUDGET, BUCKETS, bucket);
      // every conversation holds 4 messages: a bucket keeps as many as fit in its share
      const inBucket = conversations.filter((id) => conversationBucket(id, BUCKETS) === bucket).length;
      expect(total).toBe(4 * Math.min(inBucket, Math.floor(share / 4)));
      expect((cached.get(bucket) ?? []).length * 4).toBe(total);
      expect(await inspect.zcard(keys.lru)).toBe(total / 4);
      if (total > 0) masters.add(await masterOfSlot(await slotOf(keys.lru)));
      sum += share;
    }
    expect(sum).toBe(BUDGET);
    expect(masters.size).toBe(3);
  });

  it('lets a frontend MessageCacheClient and the backend service share conversations and bucket budgets', async () => {
    const options = { buckets: BUCKETS, maxCachedMessages: BUDGET };
    const backend = new MessageCacheService(await connect(), options);
    const frontend = new MessageCacheClient(await connect(), options);
    // two conversations of one bucket, so that filling one evicts the other
    const ids = Array.from({ length: 200 }, (_, i) => `c${i}`);
    const [first, second] = ids.filter((id) => conversationBucket(id, BUCKETS) === 5);
    const share = bucketBudget(BUDGET, BUCKETS, 5);

    expect(await backend.cacheMessages(first, messages(share - 2, 'b'))).toBe(true);
    expect(await frontend.getCachedMessages(first, { last: 1 })).toEqual(messages(share - 2, 'b').slice(-1));
    expect(await frontend.appendMessages(first, [{ id: 'from-frontend' }])).toBe(true);
    expect((await backend.getCachedMessages(first))?.at(-1)).toEqual({ id: 'from-frontend' });

    expect(await frontend.cacheMessages(second, messages(2, 'f'))).toBe(true);
    expect(await backend.getCachedMessages(first)).toBeNull();
    expect(await backend.getCachedMessages(second)).toEqual(messages(2, 'f'));
    expect(frontend.stats().evictions).toBe(1);
    expect(await inspect.get(conversationKeys(second, 5).total)).toBe('2');
  });
});

describe('a master killed on a three-master cluster', () => {
  /** One user whose keys the given master serves. */
  async function userOn(master: RedisServer, exclude: string[] = []): Promise<string> {
    for (let i = 0; ; i++) {
      const userId = `user-${i}`;
      if (!exclude.includes(userId) && (await cluster.masterOf(embeddingKeys(userId).vectors)) === master)
        return userId;
    }
  }

  it('gives the fallback at once for the keys it owned, keeps serving the others, and serves all once it is back', async () => {
    const warnings: string[] = [];
    const client = await connect({ commandTimeout: NEVER_MS });
    const embeddings = new EmbeddingCacheService(
      client,
      {},
      { deadlineMs: NEVER_MS, logger: { warn: (line) => warnings.push(line) } },
    );
    const [doomed, ...survivors] = cluster.masters;
    const lost = await userOn(doomed);
    const kept = await Promise.all(survivors.map((master) => userOn(master)));
    for (const userId of [lost, ...kept]) expect(await embeddings.cacheEmbedding(userId, 'hello', [1, 2])).toBe(true);

    const gone = new Promise((resolve) => client.once('-node', resolve));
    await doomed.kill();
    await gone;
    expect(client.status).toBe('ready');

    expect(await embeddings.getCachedEmbedding(lost, 'hello')).toBeNull();
    expect(await embeddings.cacheEmbedding(lost, 'again', [3])).toBe(false);
    for (const userId of kept) {
      expect(await embeddings.getCachedEmbedding(userId, 'hello')).toEqual([1, 2]);
      expect(await embeddings.cacheEmbedding(userId, 'again', [3])).toBe(true);
    }
    expect(embeddings.stats()).toEqual(embeddingStats({ hits: 2, misses: 0, writes: 5, evictions: 0, fallbacks: 2 }));
    // ioredis rejected the call itself, without waiting for a reply: not a deadline or a command timeout
    expect(warnings).toEqual(['Redis connection "local" failed during getCachedEmbedding: Connection is closed.']);

    // the master comes back with its cluster identity (nodes.conf survives) but no data
    await doomed.restart();
    let written = false;
    for (let attempt = 0; attempt < 100 && !written; attempt++) {
      written = await embeddings.cacheEmbedding(lost, 'after', [4]);
      if (!written) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(written).toBe(true);
    expect(await embeddings.getCachedEmbedding(lost, 'after')).toEqual([4]);
    expect(await embeddings.getCachedEmbedding(lost, 'hello')).toBeNull();
  }, 20_000);
});

describe('a dead master takes only its own slots', () => {
  const READERS = 16;
  const RUN_MS = 3000;
  const USERS = 30;
  /** A read that reaches no server still has the event loop of a loaded test machine to wait for. */
  const SLACK_MS = 40;

  it('16 readers for 3 s: ≥ 99% of reads on the live masters hit, the dead one’s fall back within the deadline, and hit again within 2 s of its return', async () => {
    const client = await connect();
    const breaker = new OpossumConnectionBreaker('local', { ...CIRCUIT_BREAKER_DEFAULTS });
    breaker.follow(client);
    const embeddings = new EmbeddingCacheService(client, {}, { breaker, logger: { warn: () => undefined } });
    const health = new ModuleHealthIndicator(
      { get: () => client } as unknown as ModuleConnections,
      { get: () => breaker } as unknown as ModuleBreakers,
      { deadlineMs: DEFAULT_DEADLINE_MS } as never,
    );
    const users = Array.from({ length: USERS }, (_, i) => `spread-${i}`);
    for (const [i, userId] of users.entries()) expect(await embeddings.cacheEmbedding(userId, 'hello', [i])).toBe(true);
    const [doomed] = cluster.masters;
    const doomedAddress = `127.0.0.1:${doomed.port}`;
    const onDoomed = new Set<string>();
    for (const userId of users)
      if ((await cluster.masterOf(embeddingKeys(userId).vectors)) === doomed) onDoomed.add(userId);
    expect(onDoomed.size).toBeGreaterThan(0);
    expect(onDoomed.size).toBeLessThan(USERS);

    const gone = new Promise((resolve) => client.once('-node', resolve));
    await doomed.kill();
    await gone;

    const live = { reads: 0, hits: 0 };
    const dead = { reads: 0, fallbacks: 0, slowestMs: 0 };
    const end = performance.now() + RUN_MS;
    const reader = async (r: number) => {
      for (let i = r; performance.now() < end; i += READERS) {
        const index = i % USERS;
        const userId = users[index];
        const started = performance.now();
        const vector = await embeddings.getCachedEmbedding(userId, 'hello');
        const ms = performance.now() - started;
        if (onDoomed.has(userId)) {
          dead.reads++;
          if (vector === null) dead.fallbacks++;
          dead.slowestMs = Math.max(dead.slowestMs, ms);
        } else {
          live.reads++;
          if (vector !== null && vector[0] === index && vector.length === 1) live.hits++;
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    await Promise.all(Array.from({ length: READERS }, (_, r) => reader(r)));

    expect(live.reads).toBeGreaterThan(READERS * 10);
    expect(live.hits).toBeGreaterThanOrEqual(live.reads * 0.99);
    expect(dead.fallbacks).toBe(dead.reads);
    expect(dead.slowestMs).toBeLessThanOrEqual(DEFAULT_DEADLINE_MS + SLACK_MS);
    expect(breaker.stateOf(doomedAddress)).not.toBe('closed');
    expect(breaker.state).toBe('closed');
    const down = (await health.isHealthy('local'))['redis-local'] as {
      status: string;
      masters: Record<string, { status: string }>;
    };
    expect(down.status).toBe('up');
    expect(
      Object.fromEntries(Object.entries(down.masters).map(([address, master]) => [address, master.status])),
    ).toEqual(
      Object.fromEntries(
        cluster.masters.map((master) => [`127.0.0.1:${master.port}`, master === doomed ? 'down' : 'up']),
      ),
    );

    // back with its cluster identity (nodes.conf survives) and no data. Redis itself keeps a master that rejoins
    // refusing commands (CLUSTERDOWN) for its rejoin delay, the node timeout (2 s here): recovery counts from
    // when the master says its cluster is ok, and then a write and a read of its keys work again
    await doomed.restart();
    await until(async () => {
      const { stdout } = await run('redis-cli', ['-p', String(doomed.port), 'cluster', 'info']);
      return stdout.includes('cluster_state:ok');
    }, 10_000);
    const lost = [...onDoomed][0];
    const recoveryMs = await until(
      async () =>
        (await embeddings.cacheEmbedding(lost, 'after', [7])) &&
        JSON.stringify(await embeddings.getCachedEmbedding(lost, 'after')) === '[7]',
      5000,
    );
    expect(recoveryMs).toBeLessThanOrEqual(2000);
    const up = (await health.isHealthy('local'))['redis-local'] as unknown as {
      masters: Record<string, { status: string }>;
    };
    expect(Object.values(up.masters).map((master) => master.status)).toEqual(['up', 'up', 'up']);
    breaker.shutdown();
  }, 30_000);
});
