/**
 * The names and values of the caches' span attributes, documented in
 * docs/tracing.md. OpenTelemetry has no semantic convention for cache hits yet
 * (semantic-conventions #1747), so all but `db.system.name` and `error.type`
 * are the library's own, under `wbot.cache.*`. None carries a text, a user id,
 * a conversation id or a key.
 */

/** Every public cache operation; each call of one that reaches the cache is one span, `wbot.cache <operation>`. */
export const CACHE_OPERATIONS = [
  'getCachedEmbedding',
  'getCachedEmbeddings',
  'cacheEmbedding',
  'cacheEmbeddings',
  'getOrComputeEmbeddings',
  'clearUser',
  'getCachedMessages',
  'getCachedMessagesJson',
  'getOrLoadMessages',
  'cacheMessages',
  'appendMessages',
  'clearConversation',
  'getCachedResponse',
  'cacheResponse',
  'getOrGenerateResponse',
  'getOrStreamResponse',
  'clearTenant',
] as const;

/** One of `CACHE_OPERATIONS`. */
export type CacheOperation = (typeof CACHE_OPERATIONS)[number];

/** The connection a cache runs on: `local` for embeddings, `shared` for messages, either for responses. */
export type CacheConnectionRole = 'local' | 'shared';

/**
 * How an operation ended: `hit`, `partial` (some of a batch) or `miss` for a
 * read; `ok` for a write or clear that Redis applied, `skipped` for one Redis
 * answered without applying (an append to a conversation not cached, a
 * conversation over the budget); `fallback` when Redis failed and the call gave
 * its fallback. A response is also `coalesced` (answered by another call's model
 * call) or `bypass` (no key could be made for the call).
 */
export type CacheResult = 'hit' | 'partial' | 'miss' | 'ok' | 'skipped' | 'fallback' | 'coalesced' | 'bypass';

/** `redis`: the database system, as OpenTelemetry's database conventions name it. */
export const ATTR_DB_SYSTEM_NAME = 'db.system.name';
/** The connection's role, a {@link CacheConnectionRole}. */
export const ATTR_CONNECTION = 'wbot.cache.connection';
/** A {@link CacheResult}. */
export const ATTR_RESULT = 'wbot.cache.result';
/** How many items the call names: texts or entries (1 for a single one), or messages written. */
export const ATTR_BATCH_SIZE = 'wbot.cache.batch.size';
/** How many of a read's texts (or its one conversation) were cached. */
export const ATTR_HITS = 'wbot.cache.hits';
/** On embedding reads of a cache with a near cache: true when the near cache served every text, with no Redis call. */
export const ATTR_NEAR = 'wbot.cache.near';
/** On embedding reads of a cache with a near cache: how many of the texts it served from memory. */
export const ATTR_NEAR_HITS = 'wbot.cache.near.hits';
/** How many entries (embeddings) or conversations (messages) Redis evicted to make room during the call. */
export const ATTR_EVICTIONS = 'wbot.cache.evictions';
/** Why the call failed, low-cardinality: one of `FALLBACK_TYPES`, or the name of the error Redis or a callback gave. */
export const ATTR_ERROR_TYPE = 'error.type';

/**
 * The `error.type` of a call that gave its fallback without an error from
 * Redis or ioredis (whose name it is otherwise: `ReplyError`, `Error`, …): the
 * connection's breaker was open, the connection was down or not ready within
 * the deadline, or no reply came within it.
 */
export const FALLBACK_TYPES = {
  breakerOpen: 'breaker_open',
  unavailable: 'connection_unavailable',
  timeout: 'timeout',
} as const;
