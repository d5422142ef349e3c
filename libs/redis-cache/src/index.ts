export { RedisCacheModule } from './redis-cache.module';
export { InjectRedisCacheConnection, REDIS_CACHE_OPTIONS, getRedisCacheConnectionToken } from './redis-cache.constants';
export type { RedisCacheConnection } from './redis-cache.constants';
export { EmbeddingCacheService } from './embedding-cache.service';
export type { ComputeEmbeddings, EmbeddingEntry, EmbeddingReadOptions } from './embedding-cache.service';
export { MessageCacheService } from './message-cache.service';
export { MessageCacheClient } from './message-cache.client';
export type { CachedMessage, MessageLoader, ReadMessagesOptions } from './message-cache.client';
export { RedisCacheHealthIndicator } from './health/redis-cache.health';
export type { RedisCacheHealthResult } from './health/redis-cache.health';
export { RedisCacheInputError, RedisCacheConfigError } from './errors';
export { createCacheRedis } from './create-cache-redis';
export { createCacheClient } from './create-cache-client';
export { closeCacheClient } from './close-cache-client';
export { parseHostPorts } from './redis-connections';
export type {
  CacheClientOptions,
  ClusterConnectionOptions,
  ExistingConnectionOptions,
  HostPort,
  SentinelConnectionOptions,
  StandaloneConnectionOptions,
} from './redis-connections';
export { bucketPlacements, describeBucketSpread } from './bucket-spread';
export type { BucketPlacement } from './bucket-spread';
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
} from './defaults';
export type { BreakerState, ConnectionBreaker, ConnectionState } from './connection-breaker';
export type { EmbeddingCacheStats, MessageCacheStats } from './cache-stats';
export type { CacheLogger } from './cache-logger';
export type { Precision } from './keys';
export type {
  CacheRuntimeOptions,
  CircuitBreakerOptions,
  EmbeddingCacheOptions,
  MessageCacheOptions,
  RedisCacheModuleOptions,
  RedisConnectionOptions,
  ResolvedRedisCacheOptions,
} from './redis-cache-options.interface';
