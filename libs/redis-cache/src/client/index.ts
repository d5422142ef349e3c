/**
 * `@wbot/redis-cache/client`: the framework-free message cache client, for a
 * frontend (e.g. a Next.js route handler) or a worker that shares the `shared`
 * Redis with the Nest backend. Its only dependency is ioredis.
 */
export { MessageCacheClient } from '../message-cache.client';
export type { CachedMessage, MessageLoader, ReadMessagesOptions } from '../message-cache.client';
export { createCacheRedis } from '../create-cache-redis';
export { createCacheClient } from '../create-cache-client';
export { closeCacheClient } from '../close-cache-client';
export { parseHostPorts } from '../redis-connections';
export type {
  CacheClientOptions,
  ClusterConnectionOptions,
  ExistingConnectionOptions,
  HostPort,
  RedisConnectionOptions,
  SentinelConnectionOptions,
  StandaloneConnectionOptions,
} from '../redis-connections';
export { RedisCacheInputError, RedisCacheConfigError } from '../errors';
export {
  DEFAULT_READY_TIMEOUT_MS,
  FAIL_FAST_CLUSTER_OPTIONS,
  FAIL_FAST_REDIS_OPTIONS,
  FAIL_FAST_SENTINEL_OPTIONS,
  MESSAGE_DEFAULTS,
} from '../defaults';
export type { MessageCacheStats } from '../cache-stats';
export type { CacheRuntimeOptions, MessageCacheOptions } from '../redis-cache-options.interface';
export type { CacheLogger } from '../cache-logger';
export type { BreakerState, ConnectionBreaker, ConnectionState } from '../connection-breaker';
