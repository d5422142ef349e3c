import type { Cluster, Redis } from 'ioredis';
import type { EmbeddingCacheStats } from './cache-stats';
import type { ConnectionState } from './connection-breaker';
import { RedisCacheInputError } from './errors';
import { assertArray, assertFunction, assertText, assertUserId, assertVector } from './input';
import { DEFAULT_READY_TIMEOUT_MS, RECENT_USER_KEYS } from './defaults';
import { embeddingFieldHasher, embeddingKeys, type EmbeddingKeys } from './keys';
import type {
  CacheRuntimeOptions,
  EmbeddingCacheOptions,
  ResolvedEmbeddingOptions,
} from './redis-cache-options.interface';
import { resolveDeadline, resolveEmbeddingOptions } from './resolve-options';
import { SafeRedis } from './safe-redis';
import { defineScripts, runScript, runScriptThen } from './scripts';
import { decodeToArray, decodeToFloat32Array, encodeVector } from './vector-codec';

export interface EmbeddingReadOptions {
  /** Return `Float32Array` instead of `number[]`. */
  asFloat32Array?: boolean;
}

export interface EmbeddingEntry {
  text: string;
  embedding: number[] | Float32Array;
}

type AsArray = { asFloat32Array?: false };
type AsFloat32 = { asFloat32Array: true };
type Vector = number[] | Float32Array;

/**
 * Per-user embedding cache on the `local` connection: exact LRU per user, a
 * sliding TTL per entry, vectors stored as float32 (or float64) bytes. Every
 * operation is one round trip running one Lua script. Redis failures give
 * `null` / `false`; bad arguments reject with RedisCacheInputError.
 */
export class EmbeddingCacheService {
  readonly options: ResolvedEmbeddingOptions;
  private readonly redis: SafeRedis;
  private readonly counters: EmbeddingCacheStats = { hits: 0, misses: 0, writes: 0, evictions: 0, fallbacks: 0 };
  /** Computations under way in this process, by user key and entry field (single-flight). */
  private readonly computing = new Map<string, Promise<Vector>>();
  /** The keys of the users seen last, oldest first: a SHA-256 per call is a measurable share of a hit. */
  private readonly recentUserKeys = new Map<string, EmbeddingKeys>();
  private readonly field: (text: string) => string;

  constructor(client: Redis | Cluster, options: EmbeddingCacheOptions = {}, runtime: CacheRuntimeOptions = {}) {
    this.options = resolveEmbeddingOptions(options);
    const { namespace, precision, hashSecret } = this.options;
    this.field = embeddingFieldHasher(namespace, precision, hashSecret);
    defineScripts(client);
    this.redis = new SafeRedis(client, {
      connection: 'local',
      deadlineMs: resolveDeadline(runtime.deadlineMs),
      logger: runtime.logger ?? console,
      breaker: runtime.breaker,
      onFallback: () => this.counters.fallbacks++,
    });
  }

  getCachedEmbedding(userId: string, text: string, options?: AsArray): Promise<number[] | null>;
  getCachedEmbedding(userId: string, text: string, options: AsFloat32): Promise<Float32Array | null>;
  async getCachedEmbedding(userId: string, text: string, options: EmbeddingReadOptions = {}): Promise<Vector | null> {
    assertUserId(userId);
    assertText(text, 'text');
    const [vector] = await this.read(this.keysOf(userId), [this.field(text)], options, 'getCachedEmbedding');
    return vector;
  }

  getCachedEmbeddings(userId: string, texts: string[], options?: AsArray): Promise<(number[] | null)[]>;
  getCachedEmbeddings(userId: string, texts: string[], options: AsFloat32): Promise<(Float32Array | null)[]>;
  async getCachedEmbeddings(
    userId: string,
    texts: string[],
    options: EmbeddingReadOptions = {},
  ): Promise<(Vector | null)[]> {
    assertUserId(userId);
    this.assertTexts(texts);
    if (texts.length === 0) return [];
    const fields = texts.map((text) => this.field(text));
    return this.read(this.keysOf(userId), fields, options, 'getCachedEmbeddings');
  }

  async cacheEmbedding(userId: string, text: string, embedding: number[] | Float32Array): Promise<boolean> {
    assertUserId(userId);
    assertText(text, 'text');
    assertVector(embedding, 'embedding', this.options.maxDimensions, this.options.precision);
    return this.write(this.keysOf(userId), [[this.field(text), embedding]], 'cacheEmbedding');
  }

  async cacheEmbeddings(userId: string, entries: EmbeddingEntry[]): Promise<boolean> {
    assertUserId(userId);
    assertArray(entries, 'entries', this.options.maxBatchSize);
    // an index loop, unlike forEach, also visits the holes of a sparse array
    for (let i = 0; i < entries.length; i++) {
      const entry: unknown = entries[i];
      if (typeof entry !== 'object' || entry === null) {
        throw new RedisCacheInputError(`entries[${i}]`, 'must be an object');
      }
      const { text, embedding } = entry as Partial<EmbeddingEntry>;
      assertText(text, `entries[${i}].text`);
      assertVector(embedding, `entries[${i}].embedding`, this.options.maxDimensions, this.options.precision);
    }
    if (entries.length === 0) return true;
    const pairs = entries.map(({ text, embedding }): [string, Vector] => [this.field(text), embedding]);
    return this.write(this.keysOf(userId), pairs, 'cacheEmbeddings');
  }

  /**
   * Returns a vector for every text: cached ones from Redis, the rest from one
   * `compute` call over the distinct missing texts, which are then cached.
   * Concurrent calls in this process that miss the same text share one
   * computation. With Redis down it still computes. A `compute` failure rejects.
   */
  getOrComputeEmbeddings(
    userId: string,
    texts: string[],
    compute: ComputeEmbeddings,
    options?: AsArray,
  ): Promise<number[][]>;
  getOrComputeEmbeddings(
    userId: string,
    texts: string[],
    compute: ComputeEmbeddings,
    options: AsFloat32,
  ): Promise<Float32Array[]>;
  async getOrComputeEmbeddings(
    userId: string,
    texts: string[],
    compute: ComputeEmbeddings,
    options: EmbeddingReadOptions = {},
  ): Promise<Vector[]> {
    assertUserId(userId);
    this.assertTexts(texts);
    assertFunction(compute, 'compute');
    if (texts.length === 0) return [];
    const keys = this.keysOf(userId);
    const fields = texts.map((text) => this.field(text));
    const cached = await this.read(keys, fields, options, 'getOrComputeEmbeddings');

    const pending = new Map<string, Promise<Vector>>();
    const toCompute = new Map<string, string>();
    fields.forEach((field, i) => {
      if (cached[i] || pending.has(field)) return;
      const flightKey = `${keys.vectors}\n${field}`;
      const shared = this.computing.get(flightKey);
      if (shared) pending.set(field, shared);
      else toCompute.set(field, texts[i]);
    });
    if (toCompute.size > 0) {
      const computed = this.computeAndStore(userId, keys, toCompute, compute);
      for (const [field, promise] of computed) pending.set(field, promise);
    }

    const resolved = new Map<string, Vector>();
    await Promise.all([...pending].map(async ([field, promise]) => resolved.set(field, await promise)));
    return fields.map((field, i) => cached[i] ?? this.convert(resolved.get(field)!, options));
  }

  async clearUser(userId: string): Promise<boolean> {
    assertUserId(userId);
    const keys = this.keysOf(userId);
    return this.redis.run(
      'clearUser',
      false,
      async () => {
        await runScript(this.redis.client, 'embeddingClear', [keys.vectors, keys.lru], [this.ttlMs]);
        return true;
      },
      keys.vectors,
    );
  }

  stats(): EmbeddingCacheStats {
    return { ...this.counters };
  }

  /**
   * Resolves true once the connection is ready (on a cluster, with all its
   * masters), false after `timeoutMs`; never rejects. Calls need not wait for
   * it, since a call on a connection still connecting waits within its
   * deadline; it is for an app that wants to know, say before taking traffic.
   */
  ready(timeoutMs: number = DEFAULT_READY_TIMEOUT_MS): Promise<boolean> {
    return this.redis.whenReady(timeoutMs);
  }

  /** The connection's name, its ioredis status and its circuit breaker's state, for metrics. */
  connectionState(): ConnectionState {
    return this.redis.connectionState();
  }

  private get ttlMs(): number {
    return this.options.ttlSeconds * 1000;
  }

  private keysOf(userId: string): EmbeddingKeys {
    let keys = this.recentUserKeys.get(userId);
    if (keys) return keys;
    keys = embeddingKeys(userId);
    if (this.recentUserKeys.size >= RECENT_USER_KEYS) {
      this.recentUserKeys.delete(this.recentUserKeys.keys().next().value as string);
    }
    this.recentUserKeys.set(userId, keys);
    return keys;
  }

  private assertTexts(texts: unknown): asserts texts is string[] {
    assertArray(texts, 'texts', this.options.maxBatchSize);
    for (let i = 0; i < texts.length; i++) assertText(texts[i], `texts[${i}]`);
  }

  private async read(
    keys: EmbeddingKeys,
    fields: string[],
    options: EmbeddingReadOptions,
    operation: string,
  ): Promise<(Vector | null)[]> {
    const values = await this.redis.run(
      operation,
      null,
      async () => {
        const scriptKeys = [keys.vectors, keys.lru];
        const args = [this.ttlMs, ...fields];
        // One vector costs less through the script; more are cheaper read natively,
        // after a script that only keeps the LRU (docs/benchmarks.md, batch read).
        const reply =
          fields.length === 1
            ? await runScript(this.redis.client, 'embeddingGet', scriptKeys, args, true)
            : await runScriptThen(this.redis.client, 'embeddingTouch', scriptKeys, args, [
                'hmgetBuffer',
                keys.vectors,
                ...fields,
              ]);
        return reply as (Buffer | null)[];
      },
      keys.vectors,
    );
    if (values === null) return fields.map(() => null);
    const { precision } = this.options;
    return values.map((bytes) => {
      const vector =
        bytes && (options.asFloat32Array ? decodeToFloat32Array(bytes, precision) : decodeToArray(bytes, precision));
      if (vector) this.counters.hits++;
      else this.counters.misses++;
      return vector;
    });
  }

  private write(keys: EmbeddingKeys, entries: [string, ArrayLike<number>][], operation: string): Promise<boolean> {
    const args: (string | number | Buffer)[] = [this.ttlMs, this.options.maxEntriesPerUser];
    for (const [field, vector] of entries) args.push(field, encodeVector(vector, this.options.precision));
    return this.redis.run(
      operation,
      false,
      async () => {
        const evicted = (await runScript(this.redis.client, 'embeddingSet', [keys.vectors, keys.lru], args)) as number;
        this.counters.writes += entries.length;
        this.counters.evictions += evicted;
        return true;
      },
      keys.vectors,
    );
  }

  private computeAndStore(
    userId: string,
    keys: EmbeddingKeys,
    toCompute: Map<string, string>,
    compute: ComputeEmbeddings,
  ): Map<string, Promise<Vector>> {
    const texts = [...toCompute.values()];
    const batch = Promise.resolve()
      .then(() => compute(texts))
      .then(async (vectors) => {
        this.assertComputed(vectors, texts.length);
        await this.cacheEmbeddings(
          userId,
          texts.map((text, i) => ({ text, embedding: vectors[i] })),
        );
        return vectors;
      });
    const promises = new Map<string, Promise<Vector>>();
    [...toCompute.keys()].forEach((field, i) => {
      const flightKey = `${keys.vectors}\n${field}`;
      const promise = batch.then((vectors) => vectors[i]);
      this.computing.set(flightKey, promise);
      promise.then(
        () => this.computing.delete(flightKey),
        () => this.computing.delete(flightKey),
      );
      promises.set(field, promise);
    });
    return promises;
  }

  private assertComputed(vectors: unknown, expected: number): asserts vectors is Vector[] {
    if (!Array.isArray(vectors) || vectors.length !== expected) {
      throw new RedisCacheInputError('compute', `must resolve to ${expected} vectors, one per missing text`);
    }
    vectors.forEach((vector, i) =>
      assertVector(vector, `compute()[${i}]`, this.options.maxDimensions, this.options.precision),
    );
  }

  /**
   * A computed vector as a later read would return it: rounded to the stored
   * precision, and a fresh copy, because one computation may answer several texts
   * and callers, and one of them changing its result must not change another's.
   */
  private convert(vector: Vector, options: EmbeddingReadOptions): Vector {
    const stored = this.options.precision === 'float32' ? Float32Array.from(vector) : Float64Array.from(vector);
    if (!options.asFloat32Array) return Array.from(stored);
    return stored instanceof Float32Array ? stored : Float32Array.from(stored);
  }
}

/** Computes embeddings for texts that missed the cache, one vector per text, in order. */
export type ComputeEmbeddings = (missing: string[]) => Promise<(number[] | Float32Array)[]>;
