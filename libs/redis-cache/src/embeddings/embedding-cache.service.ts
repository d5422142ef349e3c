import type { Cluster, Redis } from 'ioredis';
import type { EmbeddingCacheStats } from './embedding-cache-stats';
import type { ConnectionState } from '../resilience/breaker';
import { RedisCacheInputError } from '../errors';
import {
  assertArray,
  assertFunction,
  assertOptions,
  assertText,
  assertUserId,
  assertVector,
  writeTtlMs,
} from '../options/input';
import { DEFAULT_READY_TIMEOUT_MS, RECENT_USER_KEYS } from '../options/defaults';
import { embeddingFieldHasher, embeddingKeys, type EmbeddingKeys } from '../keys';
import type {
  CacheRuntimeOptions,
  CacheWriteOptions,
  EmbeddingCacheOptions,
  ResolvedEmbeddingOptions,
} from '../options/redis-cache-options';
import { resolveDeadline, resolveEmbeddingOptions } from '../options/resolve-options';
import { resolvedWithin } from '../resilience/deadline';
import { type Flight, Flights } from '../resilience/flights';
import { SafeRedis } from '../resilience/safe-redis';
import type { CacheSpan } from '../tracing/cache-span';
import { CacheTracing } from '../tracing/cache-tracing';
import { defineScripts, runScript } from '../scripts/lua-scripts';
import { EMBEDDING_SCRIPTS } from './embedding-scripts';
import { decodeRead, readStored, scriptKeys, touchStored } from './embedding-reads';
import { NearCache, type NearCacheUsage } from './near-cache/near-cache';
import { BYTES_PER_ELEMENT, decodeToArray, decodeToFloat32Array, encodeVector } from './vector-codec';

/** How a read returns its vectors. */
export interface EmbeddingReadOptions {
  /** Return `Float32Array` instead of `number[]`. */
  asFloat32Array?: boolean;
}

/** One text and its embedding, to store with `cacheEmbeddings`. */
export interface EmbeddingEntry {
  /** The text the embedding was computed from; the key holds its hash, never the text. */
  text: string;
  /** Its vector, at most `maxDimensions` finite numbers. */
  embedding: number[] | Float32Array;
}

type Vector = number[] | Float32Array;

/** A computation of one entry's vector under way in this process. */
interface Computation extends Flight {
  readonly vector: Promise<Vector>;
}

/**
 * A read's vectors, one per text; the field of each text it asked Redis for
 * (all but those the near cache served); and when it ran, in µs of the server's
 * clock (`'0'` when unknown: Redis failed, answered without the script, or was
 * not asked): where a computation of its misses begins, for the fence of `clearUser`.
 */
interface ReadResult {
  readonly vectors: (Vector | null)[];
  readonly fields: (string | undefined)[];
  readonly at: string;
}

/** What the span of a read of one text that the near cache served says. */
const ONE_NEAR_HIT = (span: CacheSpan) => {
  span.read(1, 1);
  span.servedNear(1);
};

/** The operation name of the near cache's touches, whose fallbacks are no caller's. */
const NEAR_TOUCH = 'nearCacheTouch';

/** The `since` of a write that no clear fences: one the app makes itself. */
const UNFENCED = '';
/** What the set script returns when a clear fenced the write off. */
const FENCED = -1;

/**
 * Per-user embedding cache on the `local` connection: exact LRU per user, a
 * sliding TTL per entry, vectors stored as float32 (or float64) bytes. Every
 * operation is one round trip running one Lua script. Redis failures give
 * `null` / `false`; bad arguments reject with RedisCacheInputError. With the
 * OpenTelemetry API installed and an SDK registered, each call is a span
 * (docs/tracing.md).
 */
export class EmbeddingCacheService {
  /** The options in effect, defaults filled in. */
  readonly options: ResolvedEmbeddingOptions;
  private readonly redis: SafeRedis;
  private readonly counters: EmbeddingCacheStats = {
    hits: 0,
    misses: 0,
    writes: 0,
    evictions: 0,
    clears: 0,
    fallbacks: 0,
    readOnlyHits: 0,
    nearHits: 0,
  };
  /** Computations under way in this process, by user key and entry field (single-flight). */
  private readonly computing: Flights<Computation>;
  /** The keys of the users seen last, oldest first: a SHA-256 per call is a measurable share of a hit. */
  private readonly recentUserKeys = new Map<string, EmbeddingKeys>();
  private readonly field: (text: string) => string;
  private readonly tracing = new CacheTracing('local');
  /** The near cache, when `nearCache` is given. */
  private readonly near: NearCache | undefined;

  /**
   * A cache on `client`. With `options.nearCache` it also opens a subscriber
   * connection per Redis master, which `close()` closes (the Nest module does
   * at shutdown).
   */
  constructor(client: Redis | Cluster, options: EmbeddingCacheOptions = {}, runtime: CacheRuntimeOptions = {}) {
    this.options = resolveEmbeddingOptions(options);
    const { namespace, precision, hashSecret, nearCache, maxBatchSize } = this.options;
    this.field = embeddingFieldHasher(namespace, precision, hashSecret);
    this.computing = new Flights(this.options.computeTimeoutMs);
    defineScripts(client, EMBEDDING_SCRIPTS);
    const logger = runtime.logger ?? console;
    this.redis = new SafeRedis(client, {
      connection: 'local',
      deadlineMs: resolveDeadline(runtime.deadlineMs),
      logger,
      breaker: runtime.breaker,
      onFallback: (operation) => operation !== NEAR_TOUCH && this.counters.fallbacks++,
    });
    this.near =
      nearCache &&
      new NearCache({
        client,
        options: nearCache,
        maxBatchSize,
        logger,
        connection: 'local',
        touch: (keys, fields) =>
          this.redis.run(NEAR_TOUCH, null, () => touchStored(client, keys, fields, this.ttlMs), keys.vectors),
      });
  }

  /**
   * The user's cached vector for `text` as `number[]`, or `null` on a miss or a
   * Redis failure. A hit refreshes the entry's place in the LRU and its TTL.
   */
  getCachedEmbedding(
    userId: string,
    text: string,
    options?: EmbeddingReadOptions & { asFloat32Array?: false },
  ): Promise<number[] | null>;
  /** The user's cached vector for `text` as a `Float32Array`, or `null` on a miss or a Redis failure. */
  getCachedEmbedding(
    userId: string,
    text: string,
    options: EmbeddingReadOptions & { asFloat32Array: true },
  ): Promise<Float32Array | null>;
  async getCachedEmbedding(userId: string, text: string, options?: EmbeddingReadOptions): Promise<Vector | null> {
    assertUserId(userId);
    assertText(text, 'text');
    assertOptions(options);
    // a near hit, the hot path, takes no closure and no promise of its own
    const near = this.near?.get(userId, text, options?.asFloat32Array);
    if (near) {
      this.counters.hits++;
      this.counters.nearHits++;
      this.tracing.done('getCachedEmbedding', 1, ONE_NEAR_HIT);
      return near;
    }
    return this.tracing.run('getCachedEmbedding', 1, async (span) => {
      const {
        vectors: [vector],
      } = await this.read(userId, [text], options, 'getCachedEmbedding', span);
      return vector;
    });
  }

  /**
   * One cached vector (`number[]`) or `null` per text, in order, in one round
   * trip; all `null` on a Redis failure. Hits refresh their LRU place and TTL.
   */
  getCachedEmbeddings(
    userId: string,
    texts: string[],
    options?: EmbeddingReadOptions & { asFloat32Array?: false },
  ): Promise<(number[] | null)[]>;
  /** One cached vector (`Float32Array`) or `null` per text, in order, in one round trip. */
  getCachedEmbeddings(
    userId: string,
    texts: string[],
    options: EmbeddingReadOptions & { asFloat32Array: true },
  ): Promise<(Float32Array | null)[]>;
  async getCachedEmbeddings(
    userId: string,
    texts: string[],
    options?: EmbeddingReadOptions,
  ): Promise<(Vector | null)[]> {
    assertUserId(userId);
    this.assertTexts(texts);
    assertOptions(options);
    if (texts.length === 0) return [];
    return this.tracing.run(
      'getCachedEmbeddings',
      texts.length,
      async (span) => (await this.read(userId, texts, options, 'getCachedEmbeddings', span)).vectors,
    );
  }

  /**
   * Stores the user's vector for `text`, evicting the user's least recently used
   * entries past `maxEntriesPerUser`. `true` once stored, `false` on a Redis
   * failure. `options.ttlSeconds` gives the entry a TTL of its own.
   */
  async cacheEmbedding(
    userId: string,
    text: string,
    embedding: number[] | Float32Array,
    options?: CacheWriteOptions,
  ): Promise<boolean> {
    assertUserId(userId);
    assertText(text, 'text');
    assertVector(embedding, 'embedding', this.options.maxDimensions, this.options.precision);
    this.assertCallBytes(embedding.length, 'embedding');
    const ttlMs = writeTtlMs(options, this.ttlMs);
    const keys = this.keysOf(userId);
    const entries: [string, Vector][] = [[this.field(text), embedding]];
    return this.tracing.run('cacheEmbedding', 1, (span) =>
      this.write(keys, entries, ttlMs, UNFENCED, 'cacheEmbedding', span),
    );
  }

  /**
   * Stores several of the user's vectors in one round trip: `true` once all are
   * stored, `false` on a Redis failure. `options.ttlSeconds` gives these entries
   * a TTL of their own.
   */
  async cacheEmbeddings(userId: string, entries: EmbeddingEntry[], options?: CacheWriteOptions): Promise<boolean> {
    assertUserId(userId);
    assertArray(entries, 'entries', this.options.maxBatchSize);
    // an index loop, unlike forEach, also visits the holes of a sparse array
    let elements = 0;
    for (let i = 0; i < entries.length; i++) {
      const entry: unknown = entries[i];
      if (typeof entry !== 'object' || entry === null) {
        throw new RedisCacheInputError(`entries[${i}]`, 'must be an object');
      }
      const { text, embedding } = entry as Partial<EmbeddingEntry>;
      assertText(text, `entries[${i}].text`);
      assertVector(embedding, `entries[${i}].embedding`, this.options.maxDimensions, this.options.precision);
      elements += embedding.length;
      this.assertCallBytes(elements, `entries[${i}]`);
    }
    const ttlMs = writeTtlMs(options, this.ttlMs);
    if (entries.length === 0) return true;
    const keys = this.keysOf(userId);
    const pairs = entries.map(({ text, embedding }): [string, Vector] => [this.field(text), embedding]);
    return this.tracing.run('cacheEmbeddings', entries.length, (span) =>
      this.write(keys, pairs, ttlMs, UNFENCED, 'cacheEmbeddings', span),
    );
  }

  /**
   * Returns a vector for every text: cached ones from Redis, the rest from one
   * `compute` call over the distinct missing texts, which are then cached.
   * Concurrent calls in this process that miss the same text share one
   * computation, but none waits for one longer than `computeTimeoutMs` from its
   * start: it computes for itself instead. With Redis down it still computes. A
   * `compute` failure rejects; once `compute` has answered, the call resolves.
   * Computed vectors past `maxCallBytes` are written in several calls that each
   * fit (a vector larger than `maxCallBytes` alone is returned, not cached), and
   * none is written once `clearUser` has cleared the user, in any process,
   * after this call's read. `compute` runs under the call's span, and each write
   * of its vectors is a `cacheEmbeddings` span of its own.
   */
  getOrComputeEmbeddings(
    userId: string,
    texts: string[],
    compute: ComputeEmbeddings,
    options?: EmbeddingReadOptions & { asFloat32Array?: false },
  ): Promise<number[][]>;
  /** As above, with every vector returned as a `Float32Array`. */
  getOrComputeEmbeddings(
    userId: string,
    texts: string[],
    compute: ComputeEmbeddings,
    options: EmbeddingReadOptions & { asFloat32Array: true },
  ): Promise<Float32Array[]>;
  async getOrComputeEmbeddings(
    userId: string,
    texts: string[],
    compute: ComputeEmbeddings,
    options?: EmbeddingReadOptions,
  ): Promise<Vector[]> {
    assertUserId(userId);
    this.assertTexts(texts);
    assertFunction(compute, 'compute');
    assertOptions(options);
    if (texts.length === 0) return [];
    const keys = this.keysOf(userId);
    return this.tracing.run('getOrComputeEmbeddings', texts.length, async (span) => {
      const { vectors: cached, fields, at } = await this.read(userId, texts, options, 'getOrComputeEmbeddings', span);

      const pending = new Map<string, Promise<Vector>>();
      const toCompute = new Map<string, string>();
      fields.forEach((field, i) => {
        if (cached[i] || field === undefined || pending.has(field) || toCompute.has(field)) return;
        const shared = this.computing.joinable(flightKey(keys, field));
        if (!shared) return toCompute.set(field, texts[i]);
        const own = () => this.computeAndStore(keys, new Map([[field, texts[i]]]), compute, at).get(field)!;
        pending.set(field, this.within(shared, own));
      });
      if (toCompute.size > 0) {
        const computed = this.computeAndStore(keys, toCompute, compute, at);
        for (const [field, promise] of computed) pending.set(field, promise);
      }

      const resolved = new Map<string, Vector>();
      await Promise.all([...pending].map(async ([field, promise]) => resolved.set(field, await promise)));
      return texts.map((_, i) => cached[i] ?? this.convert(resolved.get(fields[i]!)!, options));
    });
  }

  /** The shared computation's vector if it comes within `computeTimeoutMs` of its start, else `own()`. */
  private async within(shared: Computation, own: () => Promise<Vector>): Promise<Vector> {
    return (await resolvedWithin(shared.vector, this.computing.left(shared))) ?? (await own());
  }

  /**
   * Removes every cached vector of the user: `true` once they are gone, `false`
   * on a Redis failure. A `getOrComputeEmbeddings` whose read came before the
   * clear, in this process or another on the same Redis, writes nothing of its
   * computation after it (for the cache's `ttlSeconds`: the clear is recorded
   * for that long).
   */
  async clearUser(userId: string): Promise<boolean> {
    assertUserId(userId);
    const keys = this.keysOf(userId);
    // this process's near cache forgets the user before the clear is sent, and again once it is done
    this.near?.forget(keys);
    return this.tracing.run('clearUser', undefined, (span) =>
      this.redis.run(
        'clearUser',
        false,
        async () => {
          await runScript(this.redis.client, EMBEDDING_SCRIPTS.clear, scriptKeys(keys, true), [this.ttlMs]);
          this.near?.forget(keys);
          this.counters.clears++;
          span?.wrote(true);
          return true;
        },
        keys.vectors,
        span,
      ),
    );
  }

  /** The cache's counters since it was created, as a copy. */
  stats(): EmbeddingCacheStats {
    return { ...this.counters };
  }

  /** The near cache's entries, the bytes they count for and whether it serves now; undefined when it is off. */
  nearCacheUsage(): NearCacheUsage | undefined {
    return this.near?.usage();
  }

  /**
   * Closes what the cache opened itself: the near cache's subscriber
   * connections (it then serves nothing). Never the client it was given.
   */
  async close(): Promise<void> {
    await this.near?.close();
  }

  /** Called by Nest when the module stops: `close()`. */
  onModuleDestroy(): Promise<void> {
    return this.close();
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

  /** The bytes of `elements` vector elements, in the stored precision, within `maxCallBytes`. */
  private assertCallBytes(elements: number, argument: string): void {
    const bytes = elements * BYTES_PER_ELEMENT[this.options.precision];
    if (bytes > this.options.maxCallBytes) {
      throw new RedisCacheInputError(
        argument,
        `takes the call past ${this.options.maxCallBytes} bytes of vectors (maxCallBytes)`,
      );
    }
  }

  private assertTexts(texts: unknown): asserts texts is string[] {
    assertArray(texts, 'texts', this.options.maxBatchSize);
    for (let i = 0; i < texts.length; i++) assertText(texts[i], `texts[${i}]`);
  }

  /**
   * The texts' vectors: those the near cache serves, then the others from Redis,
   * in one round trip, which fill the near cache.
   */
  private async read(
    userId: string,
    texts: readonly string[],
    options: EmbeddingReadOptions | undefined,
    operation: string,
    span: CacheSpan | undefined,
  ): Promise<ReadResult> {
    const vectors: (Vector | null)[] = new Array<Vector | null>(texts.length).fill(null);
    const fields = new Array<string | undefined>(texts.length).fill(undefined);
    const asked: number[] = [];
    for (let i = 0; i < texts.length; i++) {
      const near = this.near?.get(userId, texts[i], options?.asFloat32Array);
      if (near) vectors[i] = near;
      else {
        fields[i] = this.field(texts[i]);
        asked.push(i);
      }
    }
    const nearHits = texts.length - asked.length;
    this.counters.nearHits += nearHits;
    this.counters.hits += nearHits;
    if (this.near) span?.servedNear(nearHits);
    if (asked.length === 0) {
      span?.read(nearHits, texts.length);
      return { vectors, fields, at: '0' };
    }
    const keys = this.keysOf(userId);
    const askedFields = asked.map((i) => fields[i]!);
    const ticket = this.near?.begin();
    try {
      const sentAt = performance.now();
      const reply = await this.redis.run(
        operation,
        null,
        () => readStored(this.redis.client, keys, askedFields, this.ttlMs, ticket !== undefined),
        keys.vectors,
        span,
      );
      if (reply === null) return { vectors, fields, at: '0' };
      let hits = 0;
      asked.forEach((i, k) => {
        const bytes = reply.values[k];
        const expiresInMs = reply.expiries?.[k] ?? 0;
        const fill =
          ticket !== undefined && expiresInMs > 0
            ? { text: texts[i], field: fields[i]!, expiresInMs, sentAt }
            : undefined;
        vectors[i] =
          bytes &&
          decodeRead(
            bytes,
            this.options.precision,
            options?.asFloat32Array,
            fill && ((vector) => this.near!.fill(ticket!, userId, keys, { ...fill, vector })),
          );
        if (vectors[i]) hits++;
        if (vectors[i] && reply.readOnly) this.counters.readOnlyHits++;
      });
      this.counters.hits += hits;
      this.counters.misses += asked.length - hits;
      span?.read(nearHits + hits, texts.length);
      return { vectors, fields, at: reply.at };
    } finally {
      if (ticket !== undefined) this.near!.end();
    }
  }

  /**
   * Stores `entries` with a TTL of `ttlMs`, which is their own unless it is the
   * cache's; unless `since` (a computation's start, see ReadResult) is no later
   * than the user's last clear: then nothing is written, and the result is false.
   */
  private write(
    keys: EmbeddingKeys,
    entries: [string, ArrayLike<number>][],
    ttlMs: number,
    since: string,
    operation: string,
    span: CacheSpan | undefined,
  ): Promise<boolean> {
    const args: (string | number | Buffer)[] = [this.ttlMs, this.options.maxEntriesPerUser, ttlMs, since];
    for (const [field, vector] of entries) args.push(field, encodeVector(vector, this.options.precision));
    // a write may change a vector: this process's near cache forgets it at once, the others when the script tells them
    this.near?.forget(
      keys,
      entries.map(([field]) => field),
    );
    return this.redis.run(
      operation,
      false,
      async () => {
        const evicted = (await runScript(
          this.redis.client,
          EMBEDDING_SCRIPTS.set,
          scriptKeys(keys, true),
          args,
        )) as number;
        if (evicted === FENCED) {
          span?.wrote(false);
          return false;
        }
        this.counters.writes += entries.length;
        this.counters.evictions += evicted;
        span?.evicted(evicted);
        span?.wrote(true);
        return true;
      },
      keys.vectors,
      span,
    );
  }

  /**
   * Starts one `compute` call for the texts of `toCompute` (by field), and
   * registers each field's vector for later calls to join, until it settles or
   * `computeTimeoutMs` passes, when no call joins it any more: a computation
   * that never settles is then forgotten. `since` is where it begins (ReadResult).
   */
  private computeAndStore(
    keys: EmbeddingKeys,
    toCompute: Map<string, string>,
    compute: ComputeEmbeddings,
    since: string,
  ): Map<string, Promise<Vector>> {
    const fields = [...toCompute.keys()];
    const texts = [...toCompute.values()];
    const batch = Promise.resolve()
      .then(() => compute(texts))
      .then(async (vectors) => {
        this.assertComputed(vectors, texts.length);
        await this.storeComputed(keys, fields, vectors, since);
        return vectors;
      });
    const startedAt = performance.now();
    const computations = fields.map((field, i) => ({ vector: batch.then((vectors) => vectors[i]), startedAt }));
    this.computing.add(
      fields.map((field, i) => [flightKey(keys, field), computations[i]] as const),
      batch,
    );
    return new Map(fields.map((field, i) => [field, computations[i].vector]));
  }

  /**
   * Writes computed vectors, fenced by `since`, in as few calls as `maxCallBytes`
   * allows: the model has answered (and billed), so vectors too large for one
   * call are written in parts rather than refused, and a vector larger than
   * `maxCallBytes` alone is not cached. A write that fails leaves its vectors
   * uncached; the call still returns them.
   */
  private async storeComputed(keys: EmbeddingKeys, fields: string[], vectors: Vector[], since: string): Promise<void> {
    const { maxCallBytes, precision } = this.options;
    let part: [string, Vector][] = [];
    let partBytes = 0;
    const flush = async () => {
      const entries = part;
      part = [];
      partBytes = 0;
      await this.tracing.run('cacheEmbeddings', entries.length, (span) =>
        this.write(keys, entries, this.ttlMs, since, 'cacheEmbeddings', span),
      );
    };
    for (let i = 0; i < fields.length; i++) {
      const bytes = vectors[i].length * BYTES_PER_ELEMENT[precision];
      if (bytes > maxCallBytes) continue;
      if (partBytes + bytes > maxCallBytes) await flush();
      part.push([fields[i], vectors[i]]);
      partBytes += bytes;
    }
    if (part.length > 0) await flush();
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
  private convert(vector: Vector, options: EmbeddingReadOptions | undefined): Vector {
    const stored = encodeVector(vector, this.options.precision);
    const decode = options?.asFloat32Array ? decodeToFloat32Array : decodeToArray;
    return decode(stored, this.options.precision) as Vector;
  }
}

/** The key of the computation of a user's entry among the flights. */
const flightKey = (keys: EmbeddingKeys, field: string) => `${keys.vectors}\n${field}`;

/** Computes embeddings for texts that missed the cache, one vector per text, in order. */
export type ComputeEmbeddings = (missing: string[]) => Promise<(number[] | Float32Array)[]>;
