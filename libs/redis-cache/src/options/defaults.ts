import type { ClusterOptions, RedisOptions } from 'ioredis';

/**
 * Every default of the library, in one place. The ones exported to apps are
 * frozen: the library reads them for every client and cache it creates, so a
 * change made by one consumer would otherwise change them all.
 */

/** Each connection's name in log lines when its options give no `namespace`. */
export const DEFAULT_CONNECTION_NAMES = { local: 'local', shared: 'shared' } as const;

/**
 * The most bytes one call may send, well under Redis's 1 GiB `client-query-buffer-limit`: past that limit
 * Redis drops the connection, which every other caller on it shares.
 */
const MAX_CALL_BYTES = 64 * 1024 * 1024;

/** How long a caller waits for a computation or a load that another caller started, before it starts its own. */
const JOIN_TIMEOUT_MS = 30_000;

/** The embedding cache's option defaults (`embeddings` in the module's options). */
export const EMBEDDING_DEFAULTS = Object.freeze({
  maxEntriesPerUser: 1000,
  ttlSeconds: 7 * 24 * 60 * 60,
  namespace: 'default',
  precision: 'float32',
  maxDimensions: 16384,
  maxBatchSize: 1000,
  maxCallBytes: MAX_CALL_BYTES,
  computeTimeoutMs: JOIN_TIMEOUT_MS,
} as const);

/**
 * The embedding near cache's option defaults (`embeddings.nearCache`, off unless given; its `maxBytes` has none).
 * A near hit asks Redis to refresh the entry's LRU place and TTL at most once per `touchIntervalMs`.
 */
export const NEAR_CACHE_DEFAULTS = Object.freeze({
  touchIntervalMs: 1000,
} as const);

/** The message cache's option defaults (`messages` in the module's options). */
export const MESSAGE_DEFAULTS = Object.freeze({
  maxCachedMessages: 10_000,
  ttlSeconds: 24 * 60 * 60,
  maxMessageBytes: 256 * 1024,
  maxMessagesPerCall: 10_000,
  maxCallBytes: MAX_CALL_BYTES,
  leaseTtlMs: 10_000,
  loadTimeoutMs: JOIN_TIMEOUT_MS,
  buckets: 1,
} as const);

/** The response cache's option defaults (`responses` in the module's options). */
export const RESPONSE_DEFAULTS = Object.freeze({
  connection: 'local',
  maxEntriesPerTenant: 10_000,
  ttlSeconds: 60 * 60,
  maxEntryBytes: 1024 * 1024,
  leaseTtlMs: 10_000,
  coalesceTimeoutMs: 60_000,
} as const);

/**
 * How long one blocking read of the live streams a process follows waits (XREAD BLOCK), in ms: well under the
 * fail-fast `commandTimeout`, so that the read never times out on the client's side, and short enough that a
 * stream added while a read blocks (on a cluster, where the read cannot be cut short) waits at most this long.
 */
export const LIVE_READ_BLOCK_MS = 100;

/** The most entries one blocking read of the live streams returns (XREAD COUNT). */
export const LIVE_READ_COUNT = 1000;

/**
 * How long a leader's live stream stays after its last entry or its leader's last renewal, in ms: long enough for
 * a follower that fell behind to read the rest.
 */
export const LIVE_STREAM_TTL_MS = 30_000;

/**
 * How long a tenant's fence (the generation `clearTenant` increments) lives after a clear or a leader's renewal: far
 * longer than any call in flight, which must not see it expire and start again from zero.
 */
export const RESPONSE_FENCE_TTL_MS = 24 * 60 * 60 * 1000;

/** How many misses of `getCachedResponse` a response cache remembers, to fence the `cacheResponse` that follows. */
export const RECENT_RESPONSE_MISSES = 10_000;

/** How many tenants' key names a response cache remembers, to hash each tenant id once (at most ~2 MB of ids). */
export const RECENT_TENANT_KEYS = 1024;

/**
 * The longest TTL, of a cache or of one write: 100 years. The scripts keep deadlines in microseconds, in Lua
 * numbers, exact up to 2^53 (the year 2255); and a TTL past about 3 million years reaches Redis in exponent
 * notation, which PEXPIRE refuses, so every write would fail.
 */
export const MAX_TTL_SECONDS = 100 * 365 * 24 * 60 * 60;

/** How deep a message's JSON may nest (objects and arrays in one another). */
export const MAX_MESSAGE_DEPTH = 64;

/** Longest accepted user id, in UTF-16 code units. */
export const MAX_USER_ID_LENGTH = 1024;
/** Longest accepted tenant id (the response cache's), in UTF-16 code units. */
export const MAX_TENANT_ID_LENGTH = 1024;
/** Longest accepted conversation id, in UTF-16 code units. */
export const MAX_CONVERSATION_ID_LENGTH = 256;

/** How many users' key names an embedding service remembers, to hash each id once (at most ~2 MB of ids). */
export const RECENT_USER_KEYS = 1024;

/**
 * How many conversations a message client remembers to clear after writes that failed on Redis; past it,
 * the oldest one's whole bucket is cleared.
 */
export const MAX_UNSETTLED_CONVERSATIONS = 10_000;
/** How many of those conversations a message client clears per script. */
export const SETTLE_BATCH_SIZE = 500;
/** How long a message client waits before trying again after a clear failed. */
export const SETTLE_RETRY_MS = 250;

/**
 * The near cache's bound on forgetting: a process serves a near entry only while its invalidation channel has
 * answered a PING sent less than this long ago, so every clear or write that ran in Redis longer ago than this has
 * reached it (messages and replies arrive in the order Redis sent them).
 */
export const NEAR_CACHE_INVALIDATION_BOUND_MS = 1000;
/** How often the near cache PINGs its channel, well within the bound, so that a live channel is always known to be. */
export const NEAR_CACHE_HEARTBEAT_MS = 250;
/** How long the near cache collects the touches of its hits before it sends them, one script per user. */
export const NEAR_CACHE_TOUCH_FLUSH_MS = 100;
/** How long the near cache waits before subscribing again after Redis refused its SUBSCRIBE (an ACL without it). */
export const NEAR_CACHE_SUBSCRIBE_RETRY_MS = 1000;
/**
 * What one near entry costs beside its vector (8 bytes per dimension, a `number[]` of doubles) and its text (2
 * bytes per UTF-16 code unit): the entry object, its field, its two map slots and the array's header. Measured
 * with V8's heap statistics on Node 24 (bench/near-cache.js reports it again on every run).
 */
export const NEAR_CACHE_ENTRY_OVERHEAD_BYTES = 400;
/**
 * How many users' invalidations the near cache remembers while reads are under way, to keep a read that began
 * before one from filling the cache after it; past it, every read under way is refused its fill.
 */
export const NEAR_CACHE_MAX_FENCES = 10_000;

/** How long a cache call may take in all before it gives its fallback. */
export const DEFAULT_DEADLINE_MS = 150;

/**
 * How long a call on a Redis Cluster slot that is moving waits before it tries
 * again, the first time; each later pause is twice the last, up to
 * `REDIRECTION_RETRY_MAX_MS`, and all within the call's deadline. A script's
 * `TRYAGAIN` lasts until the rest of its keys have moved, or the move ends.
 */
export const REDIRECTION_RETRY_FIRST_MS = 4;
/** The longest pause between two tries of a call on a moving slot. */
export const REDIRECTION_RETRY_MAX_MS = 32;

/** How long one connect attempt may take. */
const CONNECT_TIMEOUT_MS = 1000;

/**
 * How long the module's start, or `ready()`, waits for the connections by
 * default: the connect timeout, so that one connect attempt to a server that
 * does not answer can run its course.
 */
export const DEFAULT_READY_TIMEOUT_MS = CONNECT_TIMEOUT_MS;

const RECONNECT_BASE_MS = 50;
/**
 * The longest wait between reconnect attempts: a server that is back is found within it, so a connection recovers
 * within twice the default deadline of Redis answering again (the soak's target, docs/soak.md). An attempt on a
 * host that refuses costs next to nothing, and the full jitter spreads a fleet's reconnects over the whole wait.
 */
const RECONNECT_CAP_MS = 200;

/** Capped exponential backoff with full jitter; never gives up (never returns null). */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2 ** Math.min(attempt, 10));
  return Math.max(RECONNECT_BASE_MS, Math.round(ceiling * random()));
}

/**
 * ioredis options that make a cache fail fast instead of queueing and retrying:
 * with ioredis's own defaults a caller waits seconds while Redis is down, and a
 * command that timed out in the offline queue can still be sent later.
 */
export const FAIL_FAST_REDIS_OPTIONS: Readonly<RedisOptions> = Object.freeze<RedisOptions>({
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  // a backstop for calls made on the client outside the caches, well above the
  // cache's deadline: ioredis rejects a timed-out command from a timer, before the
  // poll phase reads a reply that has arrived, so a command timeout at or under the
  // deadline would turn a late event loop into misses (withDeadline lets it poll first); the caches' reads send
  // their commands without it (sendUntimed), their deadline being the one timer that bounds them
  commandTimeout: 1000,
  connectTimeout: CONNECT_TIMEOUT_MS,
  // a socket that stops answering (a frozen server) is dropped and reconnected
  socketTimeout: 2000,
  // ioredis waits this long for a closing socket before destroying it (its default, 2 s, delays shutdown)
  disconnectTimeout: 200,
  retryStrategy: (attempt) => reconnectDelay(attempt),
});

// The single-node options ioredis lets a cluster's node connections take: it sets their retry and queue itself.
const {
  retryStrategy: _retryStrategy,
  enableOfflineQueue: _nodeQueue,
  ...FAIL_FAST_NODE_OPTIONS
} = FAIL_FAST_REDIS_OPTIONS;

/**
 * ioredis Cluster options that fail fast like a single node. The Cluster's own
 * offline queue is not covered by the nodes' commandTimeout (ioredis #1604), so
 * it is off. A redirection or a closed node connection is not retried later from
 * a delay queue: the caller has had its fallback by then, and a cluster failover
 * takes at least cluster-node-timeout anyway. A call whose slot is moving is
 * retried by the cache itself, within its deadline (REDIRECTION_RETRY_FIRST_MS).
 * A lost node is found again through the MOVED replies of the others (ioredis's
 * default).
 */
export const FAIL_FAST_CLUSTER_OPTIONS: Readonly<ClusterOptions> = Object.freeze<ClusterOptions>({
  enableOfflineQueue: false,
  maxRedirections: 3,
  retryDelayOnFailover: 0,
  retryDelayOnClusterDown: 0,
  retryDelayOnTryAgain: 0,
  slotsRefreshTimeout: 1000,
  clusterRetryStrategy: (attempt) => reconnectDelay(attempt),
  redisOptions: Object.freeze(FAIL_FAST_NODE_OPTIONS),
});

/**
 * ioredis options for a master found through Sentinel: the single-node fail-fast
 * options, sentinels retried with the same capped, jittered backoff, and the
 * failover detector, which reconnects as soon as a sentinel announces a new
 * master instead of waiting for the old one's socket to fail.
 */
export const FAIL_FAST_SENTINEL_OPTIONS: Readonly<RedisOptions> = Object.freeze<RedisOptions>({
  ...FAIL_FAST_REDIS_OPTIONS,
  sentinelRetryStrategy: (attempt) => reconnectDelay(attempt),
  sentinelReconnectStrategy: (attempt) => reconnectDelay(attempt),
  sentinelCommandTimeout: 1000,
  failoverDetector: true,
});

/**
 * A connection's circuit breaker: it opens after 3 failed calls in a row, or once
 * more than half of at least 5 calls within a second failed, and tries one probe
 * call 250 ms later: soon enough that a server that answers again after a freeze
 * (which keeps the socket, so no reconnect closes the breaker) is used again within
 * twice the default deadline, as after a reconnect.
 */
export const CIRCUIT_BREAKER_DEFAULTS = {
  consecutiveFailures: 3,
  errorThresholdPercentage: 50,
  volumeThreshold: 5,
  windowMs: 1000,
  resetTimeoutMs: 250,
} as const;
