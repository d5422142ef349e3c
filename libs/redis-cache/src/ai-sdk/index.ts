/**
 * `@wbot/redis-cache/ai-sdk`: the embedding cache as a Vercel AI SDK middleware,
 * for `wrapEmbeddingModel` of ai 6 or ai 7. `ai` is an optional peer dependency
 * of the library: this entry imports only its types, so it loads nothing of
 * `ai` at run time, and the library's other entries never touch it.
 *
 * @packageDocumentation
 */

export { embeddingCacheMiddleware } from './embedding-cache-middleware';
export type {
  EmbeddingCacheMiddlewareOptions,
  EmbeddingCacheUserId,
  EmbeddingCallOptions,
} from './embedding-cache-middleware';
export { RedisCacheInputError } from '../errors';
// the types the cache's signature names, so that this entry's API is complete on its own
export type {
  ComputeEmbeddings,
  EmbeddingCacheService,
  EmbeddingEntry,
  EmbeddingReadOptions,
} from '../embeddings/embedding-cache.service';
export type { EmbeddingCacheStats } from '../embeddings/embedding-cache-stats';
export type { NearCacheUsage } from '../embeddings/near-cache/near-cache';
export type { BreakerState, ConnectionBreaker, ConnectionState } from '../resilience/breaker';
export type {
  CacheLogger,
  CacheRuntimeOptions,
  CacheWriteOptions,
  EmbeddingCacheOptions,
  NearCacheOptions,
  ResolvedEmbeddingOptions,
  ResolvedNearCacheOptions,
} from '../options/redis-cache-options';
export type { Precision } from '../keys';
