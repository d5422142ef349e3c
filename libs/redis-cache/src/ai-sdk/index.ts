/**
 * `@wbot/redis-cache/ai-sdk`: the caches as Vercel AI SDK middleware, for ai 6 or ai 7: the embedding cache for
 * `wrapEmbeddingModel`, the response cache for `wrapLanguageModel`. `ai` is an optional peer dependency of the
 * library: this entry imports only its types, so it loads nothing of `ai` at run time, and the library's other
 * entries never touch it.
 *
 * @packageDocumentation
 */

export { embeddingCacheMiddleware } from './embedding-cache-middleware';
export { responseCacheMiddleware, responseCallKey } from './response-cache-middleware';
export type {
  LanguageModelCallOptions,
  ResponseCacheControls,
  ResponseCacheMiddlewareOptions,
  ResponseCacheTenant,
  ResponseKeyInput,
} from './response-cache-middleware';
export type {
  EmbeddingCacheMiddlewareOptions,
  EmbeddingCacheUserId,
  EmbeddingCallOptions,
} from './embedding-cache-middleware';
export { RedisCacheFollowError, RedisCacheInputError } from '../errors';
// the types the cache's signature names, so that this entry's API is complete on its own
export type {
  ComputeEmbeddings,
  EmbeddingCacheService,
  EmbeddingEntry,
  EmbeddingReadOptions,
} from '../embeddings/embedding-cache.service';
export type { EmbeddingCacheStats } from '../embeddings/embedding-cache-stats';
export type { ResponseCacheService } from '../responses/response-cache.service';
export type { ResponseCacheStats } from '../responses/response-cache-stats';
export type * from '../responses/response-call';
export type { NearCacheUsage } from '../embeddings/near-cache/near-cache';
export type { BreakerState, ConnectionBreaker, ConnectionState } from '../resilience/breaker';
export type {
  CacheLogger,
  CacheRuntimeOptions,
  CacheWriteOptions,
  EmbeddingCacheOptions,
  NearCacheOptions,
  ResolvedEmbeddingOptions,
  ResolvedResponseOptions,
  ResponseCacheOptions,
  ResolvedNearCacheOptions,
} from '../options/redis-cache-options';
export type { Precision } from '../keys';
