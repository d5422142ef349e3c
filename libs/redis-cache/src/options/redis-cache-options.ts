import type { ConnectionBreaker } from '../resilience/breaker';
import type { Precision } from '../keys';
import type { RedisConnectionOptions, ResolvedConnectionOptions } from '../connections/connection-options';

export type { RedisConnectionOptions, ResolvedConnectionOptions } from '../connections/connection-options';

/** The logging the library needs; Nest's `Logger` and `console` both fit. */
export interface CacheLogger {
  /** Logs one warning line. */
  warn(message: string): void;
}

/** The embedding cache's options (`embeddings` in the module's options); each has a default. */
export interface EmbeddingCacheOptions {
  /** Entries kept per user before the least recently used is evicted. Default 1000. */
  maxEntriesPerUser?: number;
  /**
   * An entry not read or written for this long is gone, in seconds: 1 to 3153600000 (100 years). Default 7 days.
   * One write may give its entries another (`CacheWriteOptions`).
   */
  ttlSeconds?: number;
  /** Part of every entry's key, e.g. the model name and dimensions. Default `default`. */
  namespace?: string;
  /** When set, entry keys are HMAC-SHA-256 with this secret instead of SHA-256. */
  hashSecret?: string;
  /** How vectors are stored. `float32` (default) is lossless for float32 embeddings. */
  precision?: Precision;
  /** The most dimensions a vector may have. Default 16384. */
  maxDimensions?: number;
  /** The most texts one batch call may take. Default 1000. */
  maxBatchSize?: number;
  /** The most bytes of vectors one call may write. Default 64 MiB. */
  maxCallBytes?: number;
  /**
   * How long a caller waits for a computation of the same text that another caller started (single-flight),
   * before it computes for itself, in ms. Default 30000.
   */
  computeTimeoutMs?: number;
  /**
   * An in-process near cache in front of Redis, off unless given: hot vectors served from memory, with no Redis
   * call (docs/redis-cache-module.md, "The near cache"). It needs the Redis user's `publish` and `subscribe`
   * (docs/security.md), and one more connection per Redis master.
   */
  nearCache?: NearCacheOptions;
}

/** The embedding near cache's options (`embeddings.nearCache`). */
export interface NearCacheOptions {
  /**
   * The most memory its entries take, in bytes, as it counts them: 8 bytes per dimension (a vector is kept as a
   * `number[]` of doubles), 2 per UTF-16 code unit of its text, and 400 for the entry itself. It evicts the least
   * recently used entries to stay within it. Required.
   */
  maxBytes: number;
  /**
   * A near hit refreshes the entry's LRU place and TTL in Redis at most once per this many ms, batched with
   * the other hits' refreshes, or per half the entry's TTL if that is shorter. Default 1000.
   */
  touchIntervalMs?: number;
}

/** The message cache's options (`messages` in the module's options); each has a default. */
export interface MessageCacheOptions {
  /** The most messages cached across all conversations. Default 10000. */
  maxCachedMessages?: number;
  /**
   * A conversation not read or written for this long is gone, in seconds: 1 to 3153600000 (100 years). Default
   * 24 hours. A fill may give its conversation another (`CacheWriteOptions`).
   */
  ttlSeconds?: number;
  /** The largest accepted message, serialized to JSON, in bytes. Default 256 KiB. */
  maxMessageBytes?: number;
  /** The most messages one call may write. Default 10000. */
  maxMessagesPerCall?: number;
  /** The most bytes of messages, serialized to JSON, one call may write. Default 64 MiB. */
  maxCallBytes?: number;
  /** How long a fill lease holds while a loader runs, in ms. Default 10000. */
  leaseTtlMs?: number;
  /**
   * How long a caller waits for a load of the same conversation that another caller started (single-flight),
   * before it loads for itself, in ms. Default 30000.
   */
  loadTimeoutMs?: number;
  /** How many buckets (hash slots) the message budget is spread over. Default 1. */
  buckets?: number;
}

/**
 * The response cache's options (`responses` in the module's options); each has a default. A response is what a
 * language model answered one exact call: a result, or a stream's parts.
 */
export interface ResponseCacheOptions {
  /** The module's connection the cache runs on. Default `local`. */
  connection?: 'local' | 'shared';
  /** Responses kept per tenant before the least recently used is evicted. Default 10000. */
  maxEntriesPerTenant?: number;
  /**
   * How long a response is served after it was stored, in seconds: 1 to 3153600000 (100 years). Default 1 hour.
   * Hits do not extend it, so an answer is never older than this. One call may give its response another.
   */
  ttlSeconds?: number;
  /** The largest response stored, encoded, in bytes; a larger one is returned but not stored. Default 1 MiB. */
  maxEntryBytes?: number;
  /** When set, entry keys are HMAC-SHA-256 with this secret instead of SHA-256. */
  hashSecret?: string;
  /**
   * How long a leader's lock holds without a renewal, in ms: a leader renews it while it runs, so a leader that
   * dies is known to its followers within this. Default 10000.
   */
  leaseTtlMs?: number;
  /**
   * How long a follower waits for its leader's result (or a stream's first part) before it calls the model
   * itself, in ms. Default 60000.
   */
  coalesceTimeoutMs?: number;
}

/** The options of one write: `cacheEmbedding`, `cacheEmbeddings`, `cacheMessages` or `cacheResponse`. */
export interface CacheWriteOptions {
  /**
   * The TTL of what this call writes, in seconds, instead of the cache's `ttlSeconds`, within the same bounds: an
   * integer from 1 to 3153600000 (100 years). It stays the entry's (or the conversation's) own: each later hit, and
   * each append to the conversation, keeps it alive that much longer, and only a later write without it gives it
   * the cache's `ttlSeconds` again.
   */
  ttlSeconds?: number;
}

/** What the framework-free clients and the services share beyond their own section. */
export interface CacheRuntimeOptions {
  /** The most a cache call may take before it gives its fallback. Default 150 ms. */
  deadlineMs?: number;
  /** Where warnings go (Redis failures, rate-limited). Default: `console`. */
  logger?: CacheLogger;
  /**
   * The connection's circuit breaker, shared by every cache on that client (the
   * Nest module makes one per connection). Without one, a call still gives its
   * fallback at once while the connection is not ready, and at its deadline otherwise.
   */
  breaker?: ConnectionBreaker;
}

/** When a connection's circuit breaker opens and when it tries again. */
export interface CircuitBreakerOptions {
  /** Failed calls in a row that open it. Default 3. */
  consecutiveFailures?: number;
  /** Failed calls, in percent of the calls in the window, above which it opens. Default 50. */
  errorThresholdPercentage?: number;
  /** Calls in the window below which it stays closed whatever fails. Default 5. */
  volumeThreshold?: number;
  /** The rolling window failures are counted over, in ms. Default 1000. */
  windowMs?: number;
  /** How long it stays open before one probe call may try the connection, in ms. Default 250. */
  resetTimeoutMs?: number;
}

/** The options of `RedisCacheModule.forRoot` / `forRootAsync`: the two connections, and the caches' options. */
export interface RedisCacheModuleOptions extends Omit<CacheRuntimeOptions, 'logger' | 'breaker'> {
  /** The module's two connections, each a URL and ioredis options, a cluster, a Sentinel master, or the app's own client. */
  connections: {
    /** The AI-only Redis; embeddings live here. */
    local: RedisConnectionOptions;
    /** The Redis the frontend reads too; conversation messages live here. */
    shared: RedisConnectionOptions;
  };
  /** The embedding cache's options. */
  embeddings?: EmbeddingCacheOptions;
  /** The message cache's options. */
  messages?: MessageCacheOptions;
  /** The response cache's options. */
  responses?: ResponseCacheOptions;
  /** One breaker per connection, shared by the caches and the health check on it. */
  circuitBreaker?: CircuitBreakerOptions;
  /**
   * How long the module's start (`app.init()`) waits for both connections to be
   * ready before it goes on without them, in ms; 0 starts connecting them in the
   * background and does not wait. Default 1000, the fail-fast connect timeout.
   */
  readyTimeoutMs?: number;
}

/** The embedding cache's options in effect, defaults filled in (`EmbeddingCacheService.options`). */
export type ResolvedEmbeddingOptions = Required<Omit<EmbeddingCacheOptions, 'hashSecret' | 'nearCache'>> &
  Pick<EmbeddingCacheOptions, 'hashSecret'> & {
    /** The near cache's options, defaults filled in; absent when it is off. */
    nearCache?: ResolvedNearCacheOptions;
  };
/** The near cache's options in effect, defaults filled in. */
export type ResolvedNearCacheOptions = Required<NearCacheOptions>;
/** The message cache's options in effect, defaults filled in (`MessageCacheClient.options`). */
export type ResolvedMessageOptions = Required<MessageCacheOptions>;
/** The response cache's options in effect, defaults filled in (`ResponseCacheService.options`). */
export type ResolvedResponseOptions = Required<Omit<ResponseCacheOptions, 'hashSecret'>> &
  Pick<ResponseCacheOptions, 'hashSecret'>;
/** A connection's circuit breaker options in effect, defaults filled in. */
export type ResolvedCircuitBreakerOptions = Required<CircuitBreakerOptions>;

/** The module's options once validated, defaults filled in, as its providers get them (`REDIS_CACHE_OPTIONS`). */
export interface ResolvedRedisCacheOptions {
  connections: { local: ResolvedConnectionOptions; shared: ResolvedConnectionOptions };
  embeddings: ResolvedEmbeddingOptions;
  messages: ResolvedMessageOptions;
  responses: ResolvedResponseOptions;
  circuitBreaker: ResolvedCircuitBreakerOptions;
  deadlineMs: number;
  readyTimeoutMs: number;
}
