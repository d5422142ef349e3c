export { RedisCacheModule } from './module/redis-cache.module';
export {
  InjectRedisCacheConnection,
  REDIS_CACHE_OPTIONS,
  getRedisCacheConnectionToken,
} from './module/redis-cache.tokens';
export type { RedisCacheConnection } from './module/redis-cache.tokens';
export { EmbeddingCacheService } from './embeddings/embedding-cache.service';
export type { ComputeEmbeddings, EmbeddingEntry, EmbeddingReadOptions } from './embeddings/embedding-cache.service';
export { MessageCacheService } from './messages/message-cache.service';
export { MessageCacheClient } from './messages/message-cache.client';
export type { CachedMessage, MessageLoader, ReadMessagesOptions } from './messages/message-cache.client';
export { RedisCacheHealthIndicator } from './health/redis-cache.health';
export type { RedisCacheHealthResult } from './health/redis-cache.health';
export { RedisCacheInputError, RedisCacheConfigError } from './errors';
export { createCacheRedis } from './connections/create-client';
export { createCacheClient } from './connections/create-client';
export { closeCacheClient } from './connections/close-client';
export { parseHostPorts } from './connections/connection-options';
export type {
  CacheClientOptions,
  ClusterConnectionOptions,
  ExistingConnectionOptions,
  HostPort,
  SentinelConnectionOptions,
  StandaloneConnectionOptions,
} from './connections/connection-options';
export { bucketPlacements, describeBucketSpread } from './messages/bucket-spread';
export type { BucketPlacement } from './messages/bucket-spread';
export {
  DEFAULT_CONNECTION_NAMES,
  DEFAULT_DEADLINE_MS,
  DEFAULT_READY_TIMEOUT_MS,
  EMBEDDING_DEFAULTS,
  FAIL_FAST_CLUSTER_OPTIONS,
  FAIL_FAST_REDIS_OPTIONS,
  FAIL_FAST_SENTINEL_OPTIONS,
  MESSAGE_DEFAULTS,
  CIRCUIT_BREAKER_DEFAULTS,
} from './options/defaults';
export type { BreakerState, ConnectionBreaker, ConnectionState } from './resilience/breaker';
export type { EmbeddingCacheStats } from './embeddings/embedding-cache-stats';
export type { MessageCacheStats } from './messages/message-cache-stats';
export type { CacheLogger } from './options/redis-cache-options';
export type { Precision } from './keys';
export type {
  CacheRuntimeOptions,
  CircuitBreakerOptions,
  EmbeddingCacheOptions,
  MessageCacheOptions,
  RedisCacheModuleOptions,
  RedisConnectionOptions,
  ResolvedRedisCacheOptions,
} from './options/redis-cache-options';
