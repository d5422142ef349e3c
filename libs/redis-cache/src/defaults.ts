import type { RedisOptions } from 'ioredis';

/** Every default of the library, in one place. */
export const DEFAULT_CONNECTION_NAMES = { local: 'local', shared: 'shared' } as const;

export const EMBEDDING_DEFAULTS = {
  maxEntriesPerUser: 1000,
  ttlSeconds: 7 * 24 * 60 * 60,
  namespace: 'default',
  precision: 'float32',
  maxDimensions: 16384,
  maxBatchSize: 1000,
} as const;

export const MESSAGE_DEFAULTS = {
  maxCachedMessages: 10_000,
  ttlSeconds: 24 * 60 * 60,
  maxMessageBytes: 256 * 1024,
  maxMessagesPerCall: 10_000,
  leaseTtlMs: 10_000,
  buckets: 1,
} as const;

/** Longest accepted user id or conversation id, in UTF-16 code units. */
export const MAX_USER_ID_LENGTH = 1024;
export const MAX_CONVERSATION_ID_LENGTH = 256;

/** How long a cache call may take in all before it gives its fallback. */
export const DEFAULT_DEADLINE_MS = 150;

const RECONNECT_BASE_MS = 50;
const RECONNECT_CAP_MS = 1000;

/** Capped exponential backoff with full jitter; never gives up (never returns null). */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2 ** Math.min(attempt, 10));
  return Math.max(RECONNECT_BASE_MS, Math.round(ceiling * random()));
}

/**
 * ioredis options that make a cache fail fast instead of queueing and retrying:
 * with ioredis's own defaults a caller waits seconds while Redis is down.
 */
export const FAIL_FAST_REDIS_OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  commandTimeout: 100,
  connectTimeout: 1000,
  socketTimeout: 2000,
  retryStrategy: (attempt) => reconnectDelay(attempt),
};
