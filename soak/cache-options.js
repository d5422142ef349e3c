'use strict';
// The caches as every worker of a topology configures them (the workers of one topology share its buckets, so
// they must agree), and what the runner's checks derive from them. Small limits, so that a short run already
// evicts, expires and overflows: the paths a long run would reach only by luck.

const { bucketBudget, conversationKeys } = require('../libs/redis-cache/dist/keys');

/** Per topology: the message buckets, spread over the masters on a cluster (about four per master). */
const BUCKETS = { single: 4, cluster: 12 };
const MAX_CACHED_MESSAGES = 3000;

const EMBEDDINGS = { maxEntriesPerUser: 16, ttlSeconds: 60, namespace: 'soak' };
/** The TTL of half the cold users' entries, their own (`cacheEmbedding(..., { ttlSeconds })`): most expire unread. */
const COLD_ENTRY_TTL_SECONDS = 2;
const MESSAGES_TTL_SECONDS = 20;

/** The module's `embeddings` and `messages` options on `topology`. */
function cacheOptions(topology) {
  return {
    embeddings: EMBEDDINGS,
    messages: { maxCachedMessages: MAX_CACHED_MESSAGES, ttlSeconds: MESSAGES_TTL_SECONDS, buckets: BUCKETS[topology] },
  };
}

/** Every message bucket of `topology`: its number, budget and bookkeeping keys. */
function buckets(topology) {
  const count = BUCKETS[topology];
  return Array.from({ length: count }, (_, bucket) => ({
    bucket,
    budget: bucketBudget(MAX_CACHED_MESSAGES, count, bucket),
    keys: conversationKeys('', bucket),
  }));
}

module.exports = { COLD_ENTRY_TTL_SECONDS, EMBEDDINGS, MESSAGES_TTL_SECONDS, buckets, cacheOptions };
