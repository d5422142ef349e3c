import type { RedisOptions } from 'ioredis';
import type { CacheLogger } from './cache-logger';
import type { Precision } from './keys';

/** One Redis connection: a URL and/or any ioredis options, which override the fail-fast defaults. */
export interface RedisConnectionOptions extends RedisOptions {
  url?: string;
  /** The client's name in `@liaoliaots/nestjs-redis`'s `RedisService` (defaults: `local`, `shared`). */
  namespace?: string;
}

export interface EmbeddingCacheOptions {
  /** Entries kept per user before the least recently used is evicted. Default 1000. */
  maxEntriesPerUser?: number;
  /** An entry not read or written for this long is gone. Default 7 days. */
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
}

export interface MessageCacheOptions {
  /** The most messages cached across all conversations. Default 10000. */
  maxCachedMessages?: number;
  /** A conversation not read or written for this long is gone. Default 24 hours. */
  ttlSeconds?: number;
  /** The largest accepted message, serialized to JSON, in bytes. Default 256 KiB. */
  maxMessageBytes?: number;
  /** The most messages one call may write. Default 10000. */
  maxMessagesPerCall?: number;
  /** How long a fill lease holds while a loader runs, in ms. Default 10000. */
  leaseTtlMs?: number;
  /** How many buckets (hash slots) the message budget is spread over. Default 1. */
  buckets?: number;
}

/** What the framework-free clients and the services share beyond their own section. */
export interface CacheRuntimeOptions {
  /** The most a cache call may take before it gives its fallback. Default 150 ms. */
  deadlineMs?: number;
  /** Where warnings go (Redis failures, rate-limited). Default: `console`. */
  logger?: CacheLogger;
}

export interface RedisCacheModuleOptions extends Omit<CacheRuntimeOptions, 'logger'> {
  connections: {
    /** The AI-only Redis; embeddings live here. */
    local: RedisConnectionOptions;
    /** The Redis the frontend reads too; conversation messages live here. */
    shared: RedisConnectionOptions;
  };
  embeddings?: EmbeddingCacheOptions;
  messages?: MessageCacheOptions;
}

export type ResolvedEmbeddingOptions = Required<Omit<EmbeddingCacheOptions, 'hashSecret'>> &
  Pick<EmbeddingCacheOptions, 'hashSecret'>;
export type ResolvedMessageOptions = Required<MessageCacheOptions>;
export type ResolvedConnectionOptions = RedisConnectionOptions & { namespace: string };

export interface ResolvedRedisCacheOptions {
  connections: { local: ResolvedConnectionOptions; shared: ResolvedConnectionOptions };
  embeddings: ResolvedEmbeddingOptions;
  messages: ResolvedMessageOptions;
  deadlineMs: number;
}
