/**
 * `@wbot/redis-cache`: a NestJS cache for AI chat backends. Text embeddings
 * per user (LRU and TTL) and language model responses per tenant (exact, with
 * identical calls in flight coalesced) on the `local` Redis, and conversation
 * messages, write-through, on the `shared` Redis that the frontend reads too
 * (`@wbot/redis-cache/client`).
 *
 * @packageDocumentation
 */

// The Nest module and its injection tokens
export { RedisCacheModule } from './module/redis-cache.module';
export type { RedisCacheModuleAsyncOptions, RedisCacheModuleRootOptions } from './module/redis-cache.module';
export { InjectRedisCacheConnection, getRedisCacheConnectionToken } from './module/redis-cache.tokens';
export type { RedisCacheConnection } from './module/redis-cache.tokens';

// The caches and the health check
export { EmbeddingCacheService } from './embeddings/embedding-cache.service';
export type { ComputeEmbeddings, EmbeddingEntry, EmbeddingReadOptions } from './embeddings/embedding-cache.service';
export type { EmbeddingCacheStats } from './embeddings/embedding-cache-stats';
export type { NearCacheUsage } from './embeddings/near-cache/near-cache';
export { MessageCacheService } from './messages/message-cache.service';
export { MessageCacheClient } from './messages/message-cache.client';
export type { CachedMessage, MessageLoader, ReadMessagesOptions } from './messages/message-cache.client';
export type { MessageCacheStats } from './messages/message-cache-stats';
export { ResponseCacheService } from './responses/response-cache.service';
export type { ResponseCacheStats } from './responses/response-cache-stats';
export type * from './responses/response-call';
export { RedisCacheHealthIndicator } from './health/redis-cache.health';
export type { RedisCacheHealthResult } from './health/redis-cache.health';
export type { BreakerState, ConnectionBreaker, ConnectionState } from './resilience/breaker';

// Errors
export { RedisCacheConfigError, RedisCacheFollowError, RedisCacheInputError } from './errors';

// Clients, for apps that create their own or share the cache outside Nest
export { closeCacheClient } from './connections/close-client';
export { createCacheClient, createCacheRedis } from './connections/create-client';
export { parseHostPorts } from './connections/connection-options';
export type {
  CacheClientOptions,
  ClusterConnectionOptions,
  ExistingConnectionOptions,
  HostPort,
  RedisConnectionOptions,
  SentinelConnectionOptions,
  StandaloneConnectionOptions,
} from './connections/connection-options';

// Options, and the defaults an app may build on
export type {
  CacheLogger,
  CacheRuntimeOptions,
  CacheWriteOptions,
  CircuitBreakerOptions,
  EmbeddingCacheOptions,
  MessageCacheOptions,
  NearCacheOptions,
  RedisCacheModuleOptions,
  ResolvedEmbeddingOptions,
  ResolvedMessageOptions,
  ResolvedResponseOptions,
  ResponseCacheOptions,
  ResolvedNearCacheOptions,
} from './options/redis-cache-options';
export type { Precision } from './keys';
export {
  DEFAULT_DEADLINE_MS,
  DEFAULT_READY_TIMEOUT_MS,
  EMBEDDING_DEFAULTS,
  FAIL_FAST_CLUSTER_OPTIONS,
  FAIL_FAST_REDIS_OPTIONS,
  FAIL_FAST_SENTINEL_OPTIONS,
  MESSAGE_DEFAULTS,
  RESPONSE_DEFAULTS,
} from './options/defaults';
