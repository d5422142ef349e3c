import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { DEFAULT_DEADLINE_MS, EmbeddingCacheService, MessageCacheService, createCacheRedis } from '@wbot/redis-cache';
import { collectGarbage } from '../support/garbage';
import { inspector, waitUntilReady } from '../support/redis-client';
import { until } from '../support/until';
import { RedisServer } from '../support/redis-server';
import { OpossumConnectionBreaker } from '../../libs/redis-cache/src/resilience/opossum-breaker';
import type { BreakerState } from '../../libs/redis-cache/src/resilience/breaker';
import { ConnectionReadiness, type Readiness } from '../../libs/redis-cache/src/connections/connection-readiness';
import { CIRCUIT_BREAKER_DEFAULTS } from '../../libs/redis-cache/src/options/defaults';
import { conversationKeys, embeddingKeys } from '../../libs/redis-cache/src/keys';

/**
 * What the fault scenarios share: a cache wired as the Nest module wires it (the
 * library's fail-fast client, one breaker shared by both caches), timing, the
 * bookkeeping invariants, and where measured figures go.
 */

/**
 * The bounds: a call that reaches a dead or frozen server ends by the cache's
 * deadline (ioredis's commandTimeout is only a backstop above it), and one that
 * must not touch the server ends at once.
 */
export const SLOW_BOUND_MS = DEFAULT_DEADLINE_MS + 50;
export const FAST_BOUND_MS = 5;
/**
 * Added to a bound for the slowest single call: a test process shares two cores
 * with Redis, other Jest workers and GC pauses, which delay timers and callbacks.
 * The 99th percentile is held to the bound plus a quarter of this.
 */
export const SLACK_MS = 40;
/** Hits resume this long after Redis is back (reconnect backoff is capped at 1 s). */
export const RECOVERY_BOUND_MS = 1500;

export const VECTOR = [0.25, -0.5, 1, 2];

export interface Cache {
  readonly client: Redis;
  readonly breaker: OpossumConnectionBreaker;
  readonly embeddings: EmbeddingCacheService;
  readonly messages: MessageCacheService;
  readonly warnings: string[];
  close(): Promise<void>;
}

/** Both caches on one fail-fast client with one breaker that follows it, with the library's default deadline. */
export function openCache(url: string): Cache {
  const client = createCacheRedis(url);
  const breaker = new OpossumConnectionBreaker('faults', { ...CIRCUIT_BREAKER_DEFAULTS });
  breaker.follow(client);
  const warnings: string[] = [];
  const runtime = { logger: { warn: (line: string) => warnings.push(line) }, breaker };
  return {
    client,
    breaker,
    warnings,
    embeddings: new EmbeddingCacheService(client, {}, runtime),
    messages: new MessageCacheService(client, { maxCachedMessages: 100_000 }, runtime),
    async close() {
      breaker.shutdown();
      if (client.status === 'end') return;
      const ended = new Promise((resolve) => client.once('end', resolve));
      client.disconnect();
      // between reconnect attempts there is no socket to close, and ioredis then emits no 'end'
      if ((client.status as string) !== 'end')
        await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 500))]);
    },
  };
}

/** A cache on its own redis-server, with an inspector connection: what each fault spec kills, freezes or stalls. */
export interface FaultFixture {
  server: RedisServer;
  cache: Cache;
  inspect: Redis;
}

/**
 * Starts a redis-server (with `serverArgs`), opens a cache on it and an
 * inspector before all of a spec's tests, and closes all three after them. The
 * fields are set once `beforeAll` has run.
 */
export function useFaultFixture(serverArgs: string[] = []): FaultFixture {
  const fixture = {} as FaultFixture;
  beforeAll(async () => {
    fixture.server = await RedisServer.start(serverArgs);
    fixture.cache = openCache(fixture.server.url);
    await waitUntilReady(fixture.cache.client);
    fixture.inspect = await inspector(fixture.server.url);
  });
  afterAll(async () => {
    await fixture.cache?.close();
    fixture.inspect?.disconnect();
    await fixture.server?.stop();
  });
  return fixture;
}

export interface Timed<T> {
  readonly value: T;
  readonly ms: number;
  /** When the call started, in ms since `epoch`. */
  readonly at: number;
  readonly status: string;
  /** What the cache made of the connection when the call started: ready, connecting (wait for it) or down. */
  readonly readiness: Readiness;
  readonly breaker: BreakerState;
}

let epoch = performance.now();
export function resetClock(): void {
  epoch = performance.now();
}
export const now = (): number => performance.now() - epoch;

export async function timed<T>(cache: Cache, call: () => Promise<T>): Promise<Timed<T>> {
  const status = cache.client.status;
  const readiness = ConnectionReadiness.of(cache.client).state;
  const breaker = cache.breaker.state;
  const started = performance.now();
  const value = await call();
  return { value, ms: performance.now() - started, at: started - epoch, status, readiness, breaker };
}

/**
 * Asserts each call's bound by the path it took, and returns the figures:
 * - short-circuited (breaker open, or the connection known to be down): within FAST_BOUND_MS;
 * - waited for a connection still connecting: within the deadline, which the wait counts in;
 * - reached the server (ready): within SLOW_BOUND_MS.
 * The first and last must have happened; a scenario may have no call that waited.
 */
export function expectBoundedByPath(calls: Timed<unknown>[]) {
  const shortCircuited = calls.filter((call) => call.breaker === 'open' || call.readiness === 'down');
  const waited = calls.filter((call) => !shortCircuited.includes(call) && call.readiness === 'connecting');
  const reachedServer = calls.filter((call) => !shortCircuited.includes(call) && call.readiness === 'ready');
  const ms = (group: Timed<unknown>[]) => group.map((call) => call.ms);
  return {
    calls: calls.length,
    shortCircuited: expectBounded(ms(shortCircuited), FAST_BOUND_MS),
    waited: waited.length > 0 ? expectBounded(ms(waited), DEFAULT_DEADLINE_MS) : summarize([]),
    reachedServer: expectBounded(ms(reachedServer), SLOW_BOUND_MS),
  };
}

/** A read and a write of each cache, alternating, for load loops. */
export function mixedCall(cache: Cache, i: number): Promise<unknown> {
  switch (i % 4) {
    case 0:
      return cache.embeddings.cacheEmbedding(`user-${i % 7}`, `text-${i % 13}`, VECTOR);
    case 1:
      return cache.embeddings.getCachedEmbedding(`user-${i % 7}`, `text-${i % 13}`);
    case 2:
      return cache.messages.getCachedMessages(`conversation-${i % 5}`);
    default:
      return cache.messages.appendMessages(`conversation-${i % 5}`, [{ id: `m-${i}`, role: 'user', content: 'hi' }]);
  }
}

/** `loops` concurrent callers, each calling one after another until `stop()`; every call is timed. */
export function load(cache: Cache, loops: number, pauseMs = 0) {
  const calls: Timed<unknown>[] = [];
  let running = true;
  let n = 0;
  const loop = async () => {
    while (running) {
      const i = n++;
      calls.push(await timed(cache, () => mixedCall(cache, i)));
      if (pauseMs > 0) await sleep(pauseMs);
      else await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const done = Promise.all(Array.from({ length: loops }, loop));
  return {
    calls,
    async stop() {
      running = false;
      await done;
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A write then a read of the same entry succeeded: the cache serves hits. */
export async function hits(cache: Cache): Promise<boolean> {
  const written = await cache.embeddings.cacheEmbedding('probe', 'probe', VECTOR);
  return written && (await cache.embeddings.getCachedEmbedding('probe', 'probe')) !== null;
}

export interface Summary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
  const round = (ms: number) => Math.round(ms * 100) / 100;
  return { count: sorted.length, p50: round(at(0.5)), p99: round(at(0.99)), max: round(sorted.at(-1) ?? 0) };
}

/** Asserts the bound on a set of latencies: p99 within bound + SLACK/4, every call within bound + SLACK. */
export function expectBounded(latencies: number[], boundMs: number): Summary {
  const summary = summarize(latencies);
  expect(summary.count).toBeGreaterThan(0);
  expect(summary.p99).toBeLessThanOrEqual(boundMs + SLACK_MS / 4);
  expect(summary.max).toBeLessThanOrEqual(boundMs + SLACK_MS);
  return summary;
}

/** Writes a scenario's figures as JSON under $FAULT_FIGURES_DIR, when set (docs/reliability.md is made from them). */
export function recordFigures(scenario: string, figures: object): void {
  const dir = process.env.FAULT_FIGURES_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${scenario}.json`), JSON.stringify(figures, null, 2));
}

/** Heap in use after full collections, in bytes. */
export async function heapAfterGc(): Promise<number> {
  await collectGarbage();
  return process.memoryUsage().heapUsed;
}

/**
 * The invariants the scripts keep, checked on the server: each user's vector hash
 * and LRU index hold the same fields; each bucket's sizes match its conversation
 * lists, its LRU holds exactly the counted conversations, and its total is their sum.
 */
export async function expectConsistentBookkeeping(inspect: Redis, users: string[], buckets = [0]): Promise<void> {
  for (const user of users) {
    const keys = embeddingKeys(user);
    const [fields, indexed] = await Promise.all([inspect.hkeys(keys.vectors), inspect.zrange(keys.lru, 0, '-1')]);
    expect([...indexed].sort()).toEqual([...fields].sort());
  }
  for (const bucket of buckets) {
    const k = conversationKeys('', bucket);
    const sizes = await inspect.hgetall(k.sizes);
    const tracked = await inspect.zrange(k.lru, 0, '-1');
    let sum = 0;
    for (const [conversation, size] of Object.entries(sizes)) {
      const length = await inspect.llen(conversationKeys(conversation, bucket).messages);
      expect({ conversation, size: Number(size) }).toEqual({ conversation, size: length - 1 });
      sum += Number(size);
    }
    expect(Object.keys(sizes).filter((conversation) => !tracked.includes(conversation))).toEqual([]);
    for (const conversation of tracked.filter((id) => !(id in sizes))) {
      expect(await inspect.llen(conversationKeys(conversation, bucket).messages)).toBe(1);
    }
    expect(Number((await inspect.get(k.total)) ?? 0)).toBe(sum);
  }
}

export { DEFAULT_DEADLINE_MS, until };
