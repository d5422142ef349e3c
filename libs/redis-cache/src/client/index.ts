/**
 * `@wbot/redis-cache/client`: the framework-free message cache client, for a
 * frontend (e.g. a Next.js route handler) or a worker that shares the `shared`
 * Redis with the Nest backend. Its only dependency is ioredis.
 */
export { MessageCacheClient } from '../message-cache.client';
export type { CachedMessage, MessageLoader, ReadMessagesOptions } from '../message-cache.client';
export { createCacheRedis } from '../create-cache-redis';
export { RedisCacheInputError, RedisCacheConfigError } from '../errors';
export { FAIL_FAST_REDIS_OPTIONS, MESSAGE_DEFAULTS } from '../defaults';
export type { MessageCacheStats } from '../cache-stats';
export type { CacheRuntimeOptions, MessageCacheOptions } from '../redis-cache-options.interface';
export type { CacheLogger } from '../cache-logger';
