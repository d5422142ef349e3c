import {
  CIRCUIT_BREAKER_DEFAULTS,
  DEFAULT_CONNECTION_NAMES,
  DEFAULT_DEADLINE_MS,
  DEFAULT_READY_TIMEOUT_MS,
  EMBEDDING_DEFAULTS,
  MAX_TTL_SECONDS,
  MESSAGE_DEFAULTS,
  RESPONSE_DEFAULTS,
  NEAR_CACHE_DEFAULTS,
} from './defaults';
import { RedisCacheConfigError } from '../errors';
import { resolveConnection } from '../connections/connection-options';
import type {
  CircuitBreakerOptions,
  EmbeddingCacheOptions,
  MessageCacheOptions,
  RedisCacheModuleOptions,
  ResolvedCircuitBreakerOptions,
  ResolvedResponseOptions,
  ResponseCacheOptions,
  ResolvedEmbeddingOptions,
  ResolvedMessageOptions,
  ResolvedNearCacheOptions,
  ResolvedRedisCacheOptions,
} from './redis-cache-options';

/**
 * Options are checked once, here, when the module or a client is created; the
 * services receive them complete and typed and never check them again.
 */

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function section(value: unknown, option: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isRecord(value)) throw new RedisCacheConfigError(option, 'must be an object');
  return value;
}

function integer(value: unknown, option: string, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new RedisCacheConfigError(option, `must be an integer ${range} (got ${JSON.stringify(value)})`);
  }
  return value;
}

const NAMESPACE = /^[A-Za-z0-9._:/-]{1,128}$/;

/** The embedding cache's options, checked and completed with `EMBEDDING_DEFAULTS`. */
export function resolveEmbeddingOptions(options: EmbeddingCacheOptions | undefined): ResolvedEmbeddingOptions {
  const raw = section(options, 'embeddings');
  const namespace = raw.namespace ?? EMBEDDING_DEFAULTS.namespace;
  if (typeof namespace !== 'string' || !NAMESPACE.test(namespace)) {
    throw new RedisCacheConfigError('embeddings.namespace', `must match ${NAMESPACE}`);
  }
  const precision = raw.precision ?? EMBEDDING_DEFAULTS.precision;
  if (precision !== 'float16' && precision !== 'float32' && precision !== 'float64') {
    throw new RedisCacheConfigError('embeddings.precision', "must be 'float16', 'float32' or 'float64'");
  }
  const hashSecret = raw.hashSecret;
  if (hashSecret !== undefined && (typeof hashSecret !== 'string' || hashSecret.length === 0)) {
    throw new RedisCacheConfigError('embeddings.hashSecret', 'must be a non-empty string');
  }
  return {
    maxEntriesPerUser: integer(
      raw.maxEntriesPerUser,
      'embeddings.maxEntriesPerUser',
      EMBEDDING_DEFAULTS.maxEntriesPerUser,
    ),
    ttlSeconds: integer(raw.ttlSeconds, 'embeddings.ttlSeconds', EMBEDDING_DEFAULTS.ttlSeconds, 1, MAX_TTL_SECONDS),
    namespace,
    precision,
    hashSecret,
    maxDimensions: integer(raw.maxDimensions, 'embeddings.maxDimensions', EMBEDDING_DEFAULTS.maxDimensions),
    maxBatchSize: integer(raw.maxBatchSize, 'embeddings.maxBatchSize', EMBEDDING_DEFAULTS.maxBatchSize),
    maxCallBytes: integer(raw.maxCallBytes, 'embeddings.maxCallBytes', EMBEDDING_DEFAULTS.maxCallBytes),
    computeTimeoutMs: integer(raw.computeTimeoutMs, 'embeddings.computeTimeoutMs', EMBEDDING_DEFAULTS.computeTimeoutMs),
    nearCache: resolveNearCache(raw.nearCache),
  };
}

/** The near cache's options, checked and completed with `NEAR_CACHE_DEFAULTS`; undefined (off) when absent. */
function resolveNearCache(value: unknown): ResolvedNearCacheOptions | undefined {
  if (value === undefined) return undefined;
  const raw = section(value, 'embeddings.nearCache');
  if (raw.maxBytes === undefined) throw new RedisCacheConfigError('embeddings.nearCache.maxBytes', 'is required');
  return {
    maxBytes: integer(raw.maxBytes, 'embeddings.nearCache.maxBytes', 0),
    touchIntervalMs: integer(
      raw.touchIntervalMs,
      'embeddings.nearCache.touchIntervalMs',
      NEAR_CACHE_DEFAULTS.touchIntervalMs,
    ),
  };
}

/**
 * The message cache's options, checked and completed with `MESSAGE_DEFAULTS`;
 * `buckets` may not exceed `maxCachedMessages`.
 */
export function resolveMessageOptions(options: MessageCacheOptions | undefined): ResolvedMessageOptions {
  const raw = section(options, 'messages');
  const resolved = {
    maxCachedMessages: integer(raw.maxCachedMessages, 'messages.maxCachedMessages', MESSAGE_DEFAULTS.maxCachedMessages),
    ttlSeconds: integer(raw.ttlSeconds, 'messages.ttlSeconds', MESSAGE_DEFAULTS.ttlSeconds, 1, MAX_TTL_SECONDS),
    maxMessageBytes: integer(raw.maxMessageBytes, 'messages.maxMessageBytes', MESSAGE_DEFAULTS.maxMessageBytes),
    maxMessagesPerCall: integer(
      raw.maxMessagesPerCall,
      'messages.maxMessagesPerCall',
      MESSAGE_DEFAULTS.maxMessagesPerCall,
    ),
    maxCallBytes: integer(raw.maxCallBytes, 'messages.maxCallBytes', MESSAGE_DEFAULTS.maxCallBytes),
    leaseTtlMs: integer(raw.leaseTtlMs, 'messages.leaseTtlMs', MESSAGE_DEFAULTS.leaseTtlMs),
    loadTimeoutMs: integer(raw.loadTimeoutMs, 'messages.loadTimeoutMs', MESSAGE_DEFAULTS.loadTimeoutMs),
    buckets: integer(raw.buckets, 'messages.buckets', MESSAGE_DEFAULTS.buckets),
  };
  if (resolved.buckets > resolved.maxCachedMessages) {
    throw new RedisCacheConfigError('messages.buckets', 'must not exceed messages.maxCachedMessages');
  }
  return resolved;
}

/** The response cache's options, checked and completed with `RESPONSE_DEFAULTS`. */
export function resolveResponseOptions(options: ResponseCacheOptions | undefined): ResolvedResponseOptions {
  const raw = section(options, 'responses');
  const connection = raw.connection ?? RESPONSE_DEFAULTS.connection;
  if (connection !== 'local' && connection !== 'shared') {
    throw new RedisCacheConfigError('responses.connection', "must be 'local' or 'shared'");
  }
  const hashSecret = raw.hashSecret;
  if (hashSecret !== undefined && (typeof hashSecret !== 'string' || hashSecret.length === 0)) {
    throw new RedisCacheConfigError('responses.hashSecret', 'must be a non-empty string');
  }
  const defaults = RESPONSE_DEFAULTS;
  return {
    connection,
    maxEntriesPerTenant: integer(
      raw.maxEntriesPerTenant,
      'responses.maxEntriesPerTenant',
      defaults.maxEntriesPerTenant,
    ),
    ttlSeconds: integer(raw.ttlSeconds, 'responses.ttlSeconds', defaults.ttlSeconds, 1, MAX_TTL_SECONDS),
    maxEntryBytes: integer(raw.maxEntryBytes, 'responses.maxEntryBytes', defaults.maxEntryBytes),
    hashSecret,
    // a lease is renewed every third of it, so below 30 ms the renewals would come faster than a timer is precise
    leaseTtlMs: integer(raw.leaseTtlMs, 'responses.leaseTtlMs', defaults.leaseTtlMs, 30),
    coalesceTimeoutMs: integer(raw.coalesceTimeoutMs, 'responses.coalesceTimeoutMs', defaults.coalesceTimeoutMs),
  };
}

/** The `deadlineMs` option: a positive integer, `DEFAULT_DEADLINE_MS` when absent. */
export function resolveDeadline(value: unknown): number {
  return integer(value, 'deadlineMs', DEFAULT_DEADLINE_MS);
}

/** The circuit breaker options, checked and completed with `CIRCUIT_BREAKER_DEFAULTS`. */
export function resolveCircuitBreaker(options: CircuitBreakerOptions | undefined): ResolvedCircuitBreakerOptions {
  const raw = section(options, 'circuitBreaker');
  const defaults = CIRCUIT_BREAKER_DEFAULTS;
  return {
    consecutiveFailures: integer(
      raw.consecutiveFailures,
      'circuitBreaker.consecutiveFailures',
      defaults.consecutiveFailures,
    ),
    errorThresholdPercentage: integer(
      raw.errorThresholdPercentage,
      'circuitBreaker.errorThresholdPercentage',
      defaults.errorThresholdPercentage,
      1,
      100,
    ),
    volumeThreshold: integer(raw.volumeThreshold, 'circuitBreaker.volumeThreshold', defaults.volumeThreshold),
    // opossum counts in ten buckets of windowMs / 10
    windowMs: integer(raw.windowMs, 'circuitBreaker.windowMs', defaults.windowMs, 10),
    resetTimeoutMs: integer(raw.resetTimeoutMs, 'circuitBreaker.resetTimeoutMs', defaults.resetTimeoutMs),
  };
}

/**
 * The module's options, checked and completed: both connections, each cache's
 * section, the circuit breaker, the deadline and the ready timeout. Throws
 * RedisCacheConfigError on the first invalid one, so the app does not start.
 */
export function resolveModuleOptions(options: RedisCacheModuleOptions): ResolvedRedisCacheOptions {
  if (!isRecord(options)) throw new RedisCacheConfigError('options', 'must be an object');
  const connections = section(options.connections, 'connections');
  const local = resolveConnection(connections.local, 'connections.local', DEFAULT_CONNECTION_NAMES.local);
  const shared = resolveConnection(connections.shared, 'connections.shared', DEFAULT_CONNECTION_NAMES.shared);
  return {
    connections: { local, shared },
    embeddings: resolveEmbeddingOptions(options.embeddings),
    messages: resolveMessageOptions(options.messages),
    responses: resolveResponseOptions(options.responses),
    circuitBreaker: resolveCircuitBreaker(options.circuitBreaker),
    deadlineMs: resolveDeadline(options.deadlineMs),
    readyTimeoutMs: integer(options.readyTimeoutMs, 'readyTimeoutMs', DEFAULT_READY_TIMEOUT_MS, 0),
  };
}
