/**
 * `@wbot/redis-cache/client`: the framework-free message cache client, for a
 * frontend (e.g. a Next.js route handler) or a worker that shares the `shared`
 * Redis with the Nest backend. Its only dependency is ioredis.
 */
export { MessageCacheClient } from '../messages/message-cache.client';
export type { CachedMessage, MessageLoader, ReadMessagesOptions } from '../messages/message-cache.client';
export { createCacheRedis } from '../connections/create-client';
export { createCacheClient } from '../connections/create-client';
export { closeCacheClient } from '../connections/close-client';
export { parseHostPorts } from '../connections/connection-options';
export type {
  CacheClientOptions,
  ClusterConnectionOptions,
  ExistingConnectionOptions,
  HostPort,
  RedisConnectionOptions,
  SentinelConnectionOptions,
  StandaloneConnectionOptions,
} from '../connections/connection-options';
export { RedisCacheInputError, RedisCacheConfigError } from '../errors';
export {
  DEFAULT_READY_TIMEOUT_MS,
  FAIL_FAST_CLUSTER_OPTIONS,
  FAIL_FAST_REDIS_OPTIONS,
  FAIL_FAST_SENTINEL_OPTIONS,
  MESSAGE_DEFAULTS,
} from '../options/defaults';
export type { MessageCacheStats } from '../messages/message-cache-stats';
export type { CacheRuntimeOptions, MessageCacheOptions } from '../options/redis-cache-options';
export type { CacheLogger } from '../options/redis-cache-options';
export type { BreakerState, ConnectionBreaker, ConnectionState } from '../resilience/breaker';
