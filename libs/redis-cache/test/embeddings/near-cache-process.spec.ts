import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { EmbeddingCacheService, createCacheRedis } from '@wbot/redis-cache';
import { waitUntilReady } from '../../../../test/support/redis-client';
import { RedisServer } from '../../../../test/support/redis-server';
import { ChildDriver, installBuiltPackage } from '../support/child-process';
import { serving } from '../support/near-cache';

/**
 * The near cache across processes, for real: separate Node processes, each
 * with the built package and a near cache of its own, as replicas of a backend
 * run them, on one Redis. A clear or a write in one makes every other stop
 * serving what it changed within the bound, NEAR_CACHE_INVALIDATION_BOUND_MS
 * (1 s); the test measures how soon, and prints it.
 */
const FIXTURE = join(__dirname, 'fixtures', 'near-cache-process.js');
const BOUND_MS = 1000;
/** Touches, which would also find a cleared entry gone, wait longer than the test: only the channel can tell. */
const OPTIONS = { nearCache: { maxBytes: 1_000_000, touchIntervalMs: 60_000 } };
const VECTOR = [1, 2, 3, 4];
const ROUNDS = 5;

interface Watched {
  stoppedAt: number;
  vector: number[] | null;
  nearHits: number;
}

const now = () => performance.timeOrigin + performance.now();

describe('the near cache in separate processes', () => {
  let dir: string;
  let server: RedisServer;
  let children: ChildDriver[];
  let client: Redis;
  let local: EmbeddingCacheService;

  beforeAll(async () => {
    dir = installBuiltPackage([FIXTURE]);
    server = await RedisServer.start();
  }, 120_000);

  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    const start = () => ChildDriver.start(dir, 'near-cache-process.js', [server.url, JSON.stringify(OPTIONS)]);
    children = await Promise.all([start(), start()]);
    client = createCacheRedis(server.url);
    await waitUntilReady(client);
    local = await serving(new EmbeddingCacheService(client, OPTIONS));
  });

  afterEach(async () => {
    await Promise.all(children.map((child) => child.stop()));
    await local.close();
    await client.quit();
  });

  /** Has every child read `text` of `user` once from Redis, then watch it: each stops at its first read not served near. */
  async function watchAll(user: string, text: string): Promise<() => Promise<Watched[]>> {
    for (const child of children) {
      expect(await child.call('get', user, text)).toEqual(VECTOR);
      await child.call('watch', user, text);
    }
    return () => Promise.all(children.map((child) => child.call<Watched>('watched', user, text)));
  }

  it(`makes every other process stop serving a user within ${BOUND_MS} ms of a clearUser anywhere`, async () => {
    const latencies: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const user = `user-${round}`;
      await local.cacheEmbedding(user, 'text', VECTOR);
      const watched = await watchAll(user, 'text');
      // the parent clears in even rounds, a child in odd ones, while the other child watches
      let startedAt: number;
      if (round % 2 === 0) {
        startedAt = now();
        expect(await local.clearUser(user)).toBe(true);
      } else {
        ({ startedAt } = await children[0].call<{ startedAt: number }>('clearUser', user));
      }
      const results = await watched();
      for (const result of results.slice(round % 2)) {
        expect(result.vector).toBeNull();
        expect(result.nearHits).toBeGreaterThan(0);
        latencies.push(result.stoppedAt - startedAt);
      }
    }
    const worst = Math.max(...latencies);
    console.log(
      `near cache, cross-process clearUser: from the call to the other process's first read not served near, ` +
        `${latencies.map((ms) => ms.toFixed(1)).join(', ')} ms (worst ${worst.toFixed(1)} ms, bound ${BOUND_MS} ms)`,
    );
    expect(worst).toBeLessThanOrEqual(BOUND_MS);
  });

  it('makes every other process stop serving a vector another process wrote over, within the bound', async () => {
    await local.cacheEmbedding('writer', 'text', VECTOR);
    const watched = await watchAll('writer', 'text');
    const startedAt = now();
    expect(await children[0].call('cacheEmbedding', 'writer', 'text', [5, 6, 7, 8])).toBe(true);
    const [, other] = await watched();
    expect(other.vector).toEqual([5, 6, 7, 8]);
    expect(other.stoppedAt - startedAt).toBeLessThanOrEqual(BOUND_MS);
    expect(await local.getCachedEmbedding('writer', 'text')).toEqual([5, 6, 7, 8]);
  });
});
