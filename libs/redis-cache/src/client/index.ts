/**
 * `@wbot/redis-cache/client`: the framework-free message cache client, for a
 * frontend (e.g. a Next.js route handler) or a worker that shares the `shared`
 * Redis with the Nest backend; and the response cache, for a route handler that
 * calls a language model (with `@wbot/redis-cache/ai-sdk`). It needs only
 * ioredis (and `cluster-key-slot`, which ioredis uses too): no Nest, no opossum.
 * Where the app has `@opentelemetry/api`, an optional peer, each call is a span
 * (docs/tracing.md).
 *
 * @packageDocumentation
 */

export { MessageCacheClient } from '../messages/message-cache.client';
export type { CachedMessage, MessageLoader, ReadMessagesOptions } from '../messages/message-cache.client';
export type { MessageCacheStats } from '../messages/message-cache-stats';
export { ResponseCacheService } from '../responses/response-cache.service';
export type { ResponseCacheStats } from '../responses/response-cache-stats';
export type * from '../responses/response-call';

export type { BreakerState, ConnectionBreaker, ConnectionState } from '../resilience/breaker';
export { RedisCacheConfigError, RedisCacheFollowError, RedisCacheInputError } from '../errors';
export { closeCacheClient } from '../connections/close-client';
export { createCacheClient, createCacheRedis } from '../connections/create-client';
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
export type {
  CacheLogger,
  CacheRuntimeOptions,
  CacheWriteOptions,
  MessageCacheOptions,
  ResolvedMessageOptions,
  ResolvedResponseOptions,
  ResponseCacheOptions,
} from '../options/redis-cache-options';
export {
  DEFAULT_DEADLINE_MS,
  DEFAULT_READY_TIMEOUT_MS,
  FAIL_FAST_CLUSTER_OPTIONS,
  FAIL_FAST_REDIS_OPTIONS,
  FAIL_FAST_SENTINEL_OPTIONS,
  MESSAGE_DEFAULTS,
  RESPONSE_DEFAULTS,
} from '../options/defaults';
